// Package nfa runs RE2 regular expressions, with the syntax and the leftmost-first
// results of the standard library's regexp, from a program held in pointer-free memory.
//
// Why: a compiled regexp.Regexp keeps its program as a slice of syntax.Inst, each with
// a pointer, and the garbage collector scans all of it in every cycle. The attack
// scanner holds about 10,700 such instructions (625 KiB of pointer-bearing heap, more
// than the rest of the guard together); in a service under load that made every GC
// cycle of the host application scan them, and the guard's share of GC work about
// twice what its allocations alone would cost (docs/performance.md, "A seventh look").
// Here the program is flattened into arrays without pointers, which the collector skips.
//
// The engine is a Pike VM: one pass over the input, one thread per program counter,
// threads kept in priority order, so the time is linear in the input and the result
// is the standard library's, match for match (a differential fuzz target and the
// attack scanner's corpora hold that). It has no one-pass or backtracking fast paths,
// so it is slower than regexp on inputs the backtracker would take; the attack scanner
// runs an expression only after its keywords were found, which keeps that rare.
//
// A Regexp is safe for concurrent use. It supports what the attack scanner needs:
// FindStringIndex and MatchString.
package nfa

import (
	"regexp/syntax"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Regexp is a compiled expression. Its zero value is not usable; see Compile.
type Regexp struct {
	expr   string
	inst   []inst // the program; no pointers, so the collector does not scan it
	runes  []rune // every instruction's runes, end to end
	start  uint32
	cond   syntax.EmptyOp // what the start of a match requires (syntax.Prog.StartCond)
	minLen int            // no input shorter than this matches
	prefix string         // a literal every match starts with, if any
	// first holds the bytes a match can start with (bit b of first[b/64]); with a
	// set that is not all bytes, positions that start with another byte are skipped.
	first    [4]uint64
	anyFirst bool      // every byte can start a match (or a match can be empty)
	pool     sync.Pool // *machine
}

// inst is a syntax.Inst without the pointer: its runes are runes[lo:lo+n]. A
// case-folded single rune whose fold orbit has two members (a and A) keeps the other
// in fold, so that matching it needs no unicode.SimpleFold; other runes have fold -1.
type inst struct {
	op    syntax.InstOp
	out   uint32
	arg   uint32
	lo, n uint32
	fold  rune
}

// Compile parses expr with the syntax of regexp.Compile (Perl flags, leftmost-first).
func Compile(expr string) (*Regexp, error) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, err
	}
	re = re.Simplify()
	prog, err := syntax.Compile(re)
	if err != nil {
		return nil, err
	}
	r := &Regexp{expr: expr, start: uint32(prog.Start), cond: prog.StartCond(), minLen: minInputLen(re), inst: make([]inst, len(prog.Inst))}
	n := 0
	for i := range prog.Inst {
		n += len(prog.Inst[i].Rune)
	}
	r.runes = make([]rune, 0, n)
	for i, in := range prog.Inst {
		r.inst[i] = inst{op: in.Op, out: in.Out, arg: in.Arg, lo: uint32(len(r.runes)), n: uint32(len(in.Rune)), fold: -1}
		r.runes = append(r.runes, in.Rune...)
		if in.Op == syntax.InstRune && len(in.Rune) == 1 && syntax.Flags(in.Arg)&syntax.FoldCase != 0 {
			if f := unicode.SimpleFold(in.Rune[0]); unicode.SimpleFold(f) == in.Rune[0] {
				r.inst[i].fold = f
			}
		}
	}
	if p, _ := prog.Prefix(); p != "" && r.cond&syntax.EmptyBeginText == 0 {
		r.prefix = p
	}
	r.firstBytes(prog)
	return r, nil
}

// firstBytes computes first: the bytes the runes that a match can consume first may
// begin with. It follows the start's empty-width steps as if every assertion held,
// which can only add bytes.
func (r *Regexp) firstBytes(prog *syntax.Prog) {
	seen := make([]bool, len(prog.Inst))
	var visit func(pc uint32)
	visit = func(pc uint32) {
		if seen[pc] || r.anyFirst {
			return
		}
		seen[pc] = true
		in := &prog.Inst[pc]
		switch in.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			visit(in.Out)
			visit(in.Arg)
		case syntax.InstEmptyWidth, syntax.InstNop, syntax.InstCapture:
			visit(in.Out)
		case syntax.InstMatch, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
			r.anyFirst = true // an empty match, or any rune
		case syntax.InstRune, syntax.InstRune1:
			for b := range utf8.RuneSelf {
				if in.MatchRune(rune(b)) {
					r.first[b/64] |= 1 << (b % 64)
				}
			}
			if matchesNonASCII(in) {
				// Any byte from 0x80 up leads a non-ASCII rune or is invalid UTF-8
				// (read as U+FFFD).
				r.first[2], r.first[3] = ^uint64(0), ^uint64(0)
			}
		}
	}
	visit(uint32(prog.Start))
}

// matchesNonASCII reports whether in can match a rune from U+0080 up.
func matchesNonASCII(in *syntax.Inst) bool {
	if len(in.Rune) == 1 {
		r0 := in.Rune[0]
		if r0 >= utf8.RuneSelf {
			return true
		}
		if in.Op == syntax.InstRune && syntax.Flags(in.Arg)&syntax.FoldCase != 0 {
			for f := unicode.SimpleFold(r0); f != r0; f = unicode.SimpleFold(f) {
				if f >= utf8.RuneSelf {
					return true
				}
			}
		}
		return false
	}
	for i := 1; i < len(in.Rune); i += 2 {
		if in.Rune[i] >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// minInputLen is the length in bytes of the shortest input re can match, computed as
// regexp does (regexp.go, minInputLen).
func minInputLen(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL, syntax.OpCharClass:
		return 1
	case syntax.OpLiteral:
		l := 0
		for _, r := range re.Rune {
			if r == utf8.RuneError {
				l++
			} else {
				l += utf8.RuneLen(r)
			}
		}
		return l
	case syntax.OpCapture, syntax.OpPlus:
		return minInputLen(re.Sub[0])
	case syntax.OpRepeat:
		return re.Min * minInputLen(re.Sub[0])
	case syntax.OpConcat:
		l := 0
		for _, sub := range re.Sub {
			l += minInputLen(sub)
		}
		return l
	case syntax.OpAlternate:
		l := minInputLen(re.Sub[0])
		for _, sub := range re.Sub[1:] {
			l = min(l, minInputLen(sub))
		}
		return l
	default:
		return 0
	}
}

// canStart reports whether a match can start at a byte b.
func (r *Regexp) canStart(b byte) bool { return r.first[b/64]&(1<<(b%64)) != 0 }

// MustCompile is Compile that panics on an error, for expressions fixed in the source.
func MustCompile(expr string) *Regexp {
	r, err := Compile(expr)
	if err != nil {
		panic("nfa: Compile(" + expr + "): " + err.Error())
	}
	return r
}

// String returns the source of the expression.
func (r *Regexp) String() string { return r.expr }

// FindStringIndex returns the start and end of the leftmost match in s, as
// regexp.Regexp.FindStringIndex does, or nil when there is none.
func (r *Regexp) FindStringIndex(s string) []int {
	start, end, ok := r.run(s, false)
	if !ok {
		return nil
	}
	return []int{start, end}
}

// MatchString reports whether s contains a match.
func (r *Regexp) MatchString(s string) bool {
	_, _, ok := r.run(s, true)
	return ok
}

// entry is a queued program counter; for an instruction that consumes input or
// matches it is a thread, whose match would start at start.
type entry struct {
	pc    uint32
	start int
}

// queue is a sparse set of program counters, in insertion (priority) order.
type queue struct {
	sparse []uint32
	dense  []entry
}

func (q *queue) has(pc uint32) bool {
	i := q.sparse[pc]
	return int(i) < len(q.dense) && q.dense[i].pc == pc
}

type machine struct {
	q0, q1  queue
	visited []uint32 // the backtracker's (pc, position) bits
	jobs    []job    // the backtracker's stack
}

// machine returns a machine from the pool or a new one; each engine sizes the parts
// it uses on first use (the backtracker's bits, the Pike VM's queues).
func (r *Regexp) machine() *machine {
	if m, ok := r.pool.Get().(*machine); ok {
		return m
	}
	return new(machine)
}

// context is the empty-width context at a position: what the runes before and after
// it make true (^, $, \b, …), computed only when an instruction asks.
type context struct {
	before, after rune
	flags         syntax.EmptyOp
	known         bool
}

func (c *context) get() syntax.EmptyOp {
	if !c.known {
		c.flags, c.known = syntax.EmptyOpContext(c.before, c.after), true
	}
	return c.flags
}

const endOfText rune = -1

// step decodes the rune at pos: -1 and width 0 at the end.
func step(s string, pos int) (rune, int) {
	if pos >= len(s) {
		return endOfText, 0
	}
	if c := s[pos]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(s[pos:])
}

// run finds the leftmost-first match: by backtracking when the program times the input
// is small, else with the Pike VM, as regexp's NFA (exec.go, machine.match) does with
// two capture slots: threads run in priority order; the first to reach a match records
// it and cuts off the threads below it; higher ones run on and may extend it.
func (r *Regexp) run(s string, anyMatch bool) (start, end int, matched bool) {
	if r.cond == ^syntax.EmptyOp(0) || len(s) < r.minLen {
		return 0, 0, false
	}
	m := r.machine()
	defer r.pool.Put(m)
	if len(r.inst)*(len(s)+1) <= maxBacktrackBits {
		return r.backtrack(m, s)
	}
	return r.pike(m, s, anyMatch)
}

// pike finds the leftmost-first match with the Pike VM; anyMatch stops at the first match
// found, whichever it is.
func (r *Regexp) pike(m *machine, s string, anyMatch bool) (start, end int, matched bool) {
	if n := len(r.inst); len(m.q0.sparse) < n {
		m.q0 = queue{sparse: make([]uint32, n), dense: make([]entry, 0, n)}
		m.q1 = queue{sparse: make([]uint32, n), dense: make([]entry, 0, n)}
	}
	runq, nextq := &m.q0, &m.q1
	runq.dense, nextq.dense = runq.dense[:0], nextq.dense[:0]

	pos := 0
	c, w := step(s, pos)
	c1, w1 := endOfText, 0
	if c != endOfText {
		c1, w1 = step(s, pos+w)
	}
	at := context{before: endOfText, after: c}
loop:
	for {
		if len(runq.dense) == 0 {
			if r.cond&syntax.EmptyBeginText != 0 && pos != 0 || matched {
				break
			}
			skip := -1
			switch {
			case r.prefix != "":
				// Every match starts with the prefix: skip to its next occurrence.
				if !strings.HasPrefix(s[pos:], r.prefix) {
					skip = strings.Index(s[pos:], r.prefix)
					if skip < 0 {
						break loop
					}
				}
			case !r.anyFirst:
				// Skip to the next byte a match can start with. Bytes from 0x80 up
				// are all in the set or none is, so this stops at a rune's start.
				i := pos
				for i < len(s) && !r.canStart(s[i]) {
					i++
				}
				if i == len(s) {
					break loop
				}
				if i > pos {
					skip = i - pos
				}
			}
			if skip > 0 {
				pos += skip
				c, w = step(s, pos)
				c1, w1 = endOfText, 0
				if c != endOfText {
					c1, w1 = step(s, pos+w)
				}
				before, _ := utf8.DecodeLastRuneInString(s[:pos])
				if pos == 0 {
					before = endOfText
				}
				at = context{before: before, after: c}
			}
		}
		if !matched && (pos == 0 || r.cond&syntax.EmptyBeginText == 0) {
			r.add(runq, r.start, pos, &at)
		}
		next := context{before: c, after: c1}
		// Run the threads in priority order on c.
		for j := 0; j < len(runq.dense); j++ {
			e := runq.dense[j]
			in := &r.inst[e.pc]
			if in.op == syntax.InstMatch {
				start, end, matched = e.start, pos, true
				if anyMatch {
					return start, end, true
				}
				// Leftmost-first: the threads after this one have lower priority.
				runq.dense = runq.dense[:j+1]
				continue
			}
			if r.consumes(in, c) {
				r.add(nextq, in.out, e.start, &next)
			}
		}
		runq.dense = runq.dense[:0]
		if w == 0 {
			break
		}
		pos += w
		c, w = c1, w1
		if c != endOfText {
			c1, w1 = step(s, pos+w)
		}
		at = next
		runq, nextq = nextq, runq
	}
	return start, end, matched
}

// add puts pc and what it leads to without consuming input into q, in priority order,
// each program counter once, as threads of a match that starts at start; at is the
// empty-width context of the position they are at.
func (r *Regexp) add(q *queue, pc uint32, start int, at *context) {
	if q.has(pc) {
		return
	}
	q.sparse[pc] = uint32(len(q.dense))
	q.dense = append(q.dense, entry{pc: pc, start: start})
	in := &r.inst[pc]
	switch in.op {
	case syntax.InstAlt, syntax.InstAltMatch:
		r.add(q, in.out, start, at)
		r.add(q, in.arg, start, at)
	case syntax.InstEmptyWidth:
		if syntax.EmptyOp(in.arg)&^at.get() == 0 {
			r.add(q, in.out, start, at)
		}
	case syntax.InstNop, syntax.InstCapture:
		r.add(q, in.out, start, at)
	}
}

// consumes reports whether in is a rune instruction that matches c; nothing matches at
// the end of the text.
func (r *Regexp) consumes(in *inst, c rune) bool {
	if c == endOfText {
		return false
	}
	switch in.op {
	case syntax.InstRune:
		return r.matchRune(in, c)
	case syntax.InstRune1:
		return c == r.runes[in.lo]
	case syntax.InstRuneAny:
		return true
	case syntax.InstRuneAnyNotNL:
		return c != '\n'
	}
	return false
}

// matchRune is syntax.Inst.MatchRune on the flattened instruction.
func (r *Regexp) matchRune(in *inst, c rune) bool {
	if in.fold >= 0 {
		return c == r.runes[in.lo] || c == in.fold
	}
	i := syntax.Inst{Op: syntax.InstRune, Arg: in.arg, Rune: r.runes[in.lo : in.lo+in.n : in.lo+in.n]}
	return i.MatchRune(c)
}

// maxBacktrackBits bounds the backtracker's visited set (32 KiB), as regexp's does:
// inputs for which the program times the input's length is larger run on the Pike VM.
const maxBacktrackBits = 256 * 1024

type job struct {
	pc  uint32
	pos int
}

// backtrack finds the leftmost-first match by depth-first search in priority order
// from each start position, as regexp's bit-state backtracker (backtrack.go) does. A
// (pc, position) pair is explored at most once per call: reached again, from the same
// or a later start, it cannot lead to a match the first visit did not find. So the
// time is linear in the program's size times the input's length, which the caller
// bounds; for short inputs this beats the Pike VM's queues.
func (r *Regexp) backtrack(m *machine, s string) (start, end int, matched bool) {
	words := (len(r.inst)*(len(s)+1) + 31) / 32
	if cap(m.visited) < words {
		m.visited = make([]uint32, words)
	} else {
		m.visited = m.visited[:words]
		clear(m.visited)
	}
	for pos := 0; pos <= len(s); {
		if r.cond&syntax.EmptyBeginText != 0 && pos > 0 {
			break
		}
		switch {
		case r.prefix != "":
			i := strings.Index(s[pos:], r.prefix)
			if i < 0 {
				return 0, 0, false
			}
			pos += i
		case !r.anyFirst:
			for pos < len(s) && !r.canStart(s[pos]) {
				pos++
			}
			if pos == len(s) {
				return 0, 0, false
			}
		}
		if end, ok := r.try(m, s, pos); ok {
			return pos, end, true
		}
		_, w := step(s, pos)
		if w == 0 {
			break
		}
		pos += w
	}
	return 0, 0, false
}

// try runs the depth-first search for a match starting at pos.
func (r *Regexp) try(m *machine, s string, pos int) (int, bool) {
	width := len(s) + 1
	m.jobs = append(m.jobs[:0], job{pc: r.start, pos: pos})
	for len(m.jobs) > 0 {
		j := m.jobs[len(m.jobs)-1]
		m.jobs = m.jobs[:len(m.jobs)-1]
		pc, pos := j.pc, j.pos
	follow:
		for {
			bit := int(pc)*width + pos
			if m.visited[bit/32]&(1<<(bit%32)) != 0 {
				break
			}
			m.visited[bit/32] |= 1 << (bit % 32)
			in := &r.inst[pc]
			switch in.op {
			case syntax.InstAlt, syntax.InstAltMatch:
				// Out first; Arg when Out fails.
				m.jobs = append(m.jobs, job{pc: in.arg, pos: pos})
				pc = in.out
			case syntax.InstNop, syntax.InstCapture:
				pc = in.out
			case syntax.InstEmptyWidth:
				before := endOfText
				if pos > 0 {
					before, _ = utf8.DecodeLastRuneInString(s[:pos])
				}
				after, _ := step(s, pos)
				if syntax.EmptyOp(in.arg)&^syntax.EmptyOpContext(before, after) != 0 {
					break follow
				}
				pc = in.out
			case syntax.InstMatch:
				return pos, true
			case syntax.InstFail:
				break follow
			default: // the rune instructions
				c, w := step(s, pos)
				if !r.consumes(in, c) {
					break follow
				}
				pc, pos = in.out, pos+w
			}
		}
	}
	return 0, false
}
