package main

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Both charts render a PNG with a row per configuration that has a valid round, so a
// chart of more rows is taller; rows without one are left out, and no rows at all
// write no file.
func TestChartsRender(t *testing.T) {
	mk := func(n int) []row {
		rows := []row{{config: config{Name: "bare", Label: "bare net/http"}, Rounds: 3, RPS: 60000, P50: 500 * time.Microsecond, P99: 2 * time.Millisecond}}
		for i := 1; i < n; i++ {
			rows = append(rows, row{config: config{Name: "x", Label: "row", Baseline: "bare", Vigil: i%2 == 0},
				Rounds: 3, RPS: 50000, P50: 600 * time.Microsecond, P99: 3 * time.Millisecond,
				Ratio: 0.84, RatioMin: 0.82, RatioMax: 0.86, HasRatio: true})
		}
		return append(rows, row{config: config{Name: "gone", Label: "no valid round", Baseline: "bare"}})
	}
	dir := t.TempDir()
	height := func(file string) int {
		t.Helper()
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cfg, err := png.DecodeConfig(f)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		return cfg.Height
	}
	for name, draw := range map[string]func([]row, string) error{"throughput": throughputChart, "latency": latencyChart} {
		small, big := filepath.Join(dir, name+"-3.png"), filepath.Join(dir, name+"-9.png")
		if err := draw(mk(3), small); err != nil {
			t.Fatalf("%s chart of 3 rows: %v", name, err)
		}
		if err := draw(mk(9), big); err != nil {
			t.Fatalf("%s chart of 9 rows: %v", name, err)
		}
		if hs, hb := height(small), height(big); hb <= hs {
			t.Errorf("%s: the chart of 9 rows is %d px tall, the one of 3 rows %d px", name, hb, hs)
		}
		none := filepath.Join(dir, name+"-none.png")
		if err := draw([]row{{config: config{Name: "gone"}}}, none); err != nil {
			t.Fatalf("%s chart of no valid row: %v", name, err)
		}
		if _, err := os.Stat(none); !os.IsNotExist(err) {
			t.Errorf("%s chart of no valid row wrote a file (stat: %v)", name, err)
		}
	}
}
