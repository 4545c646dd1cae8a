package detect

import "testing"

func TestCombine(t *testing.T) {
	tests := []struct {
		name   string
		scores []int
		weight map[string]float64
		want   int
	}{
		{name: "none", want: 0},
		{name: "one", scores: []int{40}, want: 40},
		// 1 − (0.6 · 0.6) = 0.64
		{name: "two_forties", scores: []int{40, 40}, want: 64},
		// 1 − (0.5 · 0.5 · 0.5) = 0.875
		{name: "three_fifties", scores: []int{50, 50, 50}, want: 88},
		{name: "certain_wins", scores: []int{100, 10}, want: 100},
		{name: "zeros_add_nothing", scores: []int{0, 0, 30}, want: 30},
		// Weight 0.5 turns 80 into 40; weight 0 turns the code off.
		{name: "weighted", scores: []int{80}, weight: map[string]float64{"c0": 0.5}, want: 40},
		{name: "weight_zero", scores: []int{90, 30}, weight: map[string]float64{"c0": 0}, want: 30},
		// Weighting above 100 is clamped: 60·3 → 100.
		{name: "clamped", scores: []int{60}, weight: map[string]float64{"c0": 3}, want: 100},
		{name: "negative_clamped", scores: []int{-20, 50}, want: 50},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := make([]Finding, len(tc.scores))
			for i, s := range tc.scores {
				fs[i] = Finding{Code: "c" + string(rune('0'+i)), Score: s}
			}
			var w func(string) float64
			if tc.weight != nil {
				w = func(code string) float64 {
					if v, ok := tc.weight[code]; ok {
						return v
					}
					return 1
				}
			}
			if got := Combine(fs, w); got != tc.want {
				t.Errorf("Combine(%v) = %d, want %d", tc.scores, got, tc.want)
			}
		})
	}
}
