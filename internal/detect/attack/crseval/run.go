package crseval

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/vigilhq/vigil/internal/detect/attack"
)

// Run is the bench/detection command: it loads the data, replays it through a
// default Scanner and prints the report to stdout.
//
//	detection [-data ../shared/data/requests.jsonl] [-payloads ../shared/data/payloads.jsonl] [-v]
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("detection", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "../shared/data/requests.jsonl", "OWASP CRS regression rows (requests.jsonl)")
	payloads := fs.String("payloads", "", "also measure payload detection on this payloads.jsonl")
	verbose := fs.Bool("v", false, "list misses and false positives")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	s, err := attack.New(attack.Config{})
	if err != nil {
		return err
	}
	rows, err := loadFile(*data, LoadRows)
	if err != nil {
		return err
	}
	rep := Evaluate(s, rows)
	rep.Print(stdout, *verbose)
	if *payloads == "" {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	ps, err := loadFile(*payloads, LoadPayloads)
	if err != nil {
		return err
	}
	prep := EvaluatePayloads(s, ps)
	prep.Print(stdout, *verbose)
	return nil
}

func loadFile[T any](path string, load func(io.Reader) ([]T, error)) ([]T, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	v, err := load(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}
