package main

import (
	"bufio"
	"encoding/json"
	"io"

	"github.com/vigilhq/vigil/internal/replay"
)

// rowLog writes one JSON line per request row and placement (-jsonl): what Vigil and
// the peer did with it. A nil *rowLog writes nothing.
type rowLog struct {
	w   *bufio.Writer
	enc *json.Encoder
	err error
}

func newRowLog(w io.Writer) *rowLog {
	bw := bufio.NewWriter(w)
	return &rowLog{w: bw, enc: json.NewEncoder(bw)}
}

// rowVerdict is one line of the -jsonl output.
type rowVerdict struct {
	Table    string   `json:"table"`
	Row      string   `json:"row"`
	Category string   `json:"category,omitempty"`
	Vigil    bool     `json:"vigil"`
	Refused  string   `json:"refused,omitempty"`
	Action   string   `json:"would_be,omitempty"`
	Score    int      `json:"score"`
	Signals  []string `json:"signals,omitempty"`
	Kind     string   `json:"client_kind,omitempty"`
	Coraza   *bool    `json:"coraza,omitempty"`
}

// write records one row; peer is nil when there is no peer verdict.
func (l *rowLog) write(table, row, category string, res *replay.Result, peer *bool) {
	if l == nil || l.err != nil {
		return
	}
	v := rowVerdict{Table: table, Row: row, Category: category, Vigil: caught(res), Refused: res.Refused,
		Action: string(res.Verdict.WouldBe), Score: res.Verdict.Score, Kind: res.Verdict.Enrichment.ClientKind, Coraza: peer}
	for _, s := range res.Verdict.Signals {
		v.Signals = append(v.Signals, s.Code)
	}
	l.err = l.enc.Encode(v)
}

// flush writes what is buffered and returns the first error.
func (l *rowLog) flush() error {
	if l == nil {
		return nil
	}
	if l.err != nil {
		return l.err
	}
	return l.w.Flush()
}
