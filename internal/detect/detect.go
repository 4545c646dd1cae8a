// Package detect holds what every detector shares: the Finding a detector reports and the
// score arithmetic the guard uses to combine findings. Detectors live in sub-packages
// (attack, bot, …); each appends Findings to a caller-provided slice so a clean request
// costs no allocation.
package detect

// Finding is one observation by one detector. The root package converts it to
// vigil.Signal, which has the same fields.
type Finding struct {
	// Detector names the detector that produced the finding, for example "attack" or "bot".
	Detector string
	// Code is the stable, machine-readable reason, for example "sqli" or "honeypot".
	// Policy weights and rules refer to findings by Code.
	Code string
	// Score is the finding's strength from 0 (none) to 100 (certain).
	Score int
	// Detail is a short human-readable explanation that is safe to log: it names where
	// the finding was made ("query:id") and never carries more than a short excerpt of
	// the client's input.
	Detail string
}

// Combine merges scores as a probabilistic OR: 1 − Π(1 − sᵢ/100), scaled back to 0–100.
// Each score is first multiplied by weight(code) (1 when weight is nil). Scores outside
// 0–100 after weighting are clamped.
func Combine(fs []Finding, weight func(code string) float64) int {
	keep := 1.0
	for _, f := range fs {
		s := float64(f.Score)
		if weight != nil {
			s *= weight(f.Code)
		}
		s = min(max(s, 0), 100)
		keep *= 1 - s/100
	}
	return int((1-keep)*100 + 0.5)
}
