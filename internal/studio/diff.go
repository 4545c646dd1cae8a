package studio

import "strings"

// maxDiffCells bounds lineDiff's table (lines of a × lines of b); past it the diff
// shows every line removed and added.
const maxDiffCells = 4 << 20

// lineDiff returns a line diff of a and b: each line of the result is "  " (kept),
// "- " (only in a) or "+ " (only in b) and the line. It is a longest-common-
// subsequence diff, exact for the policy documents Studio compares.
func lineDiff(a, b string) string {
	x, y := lines(a), lines(b)
	var out strings.Builder
	if len(x)*len(y) > maxDiffCells {
		for _, l := range x {
			out.WriteString("- " + l + "\n")
		}
		for _, l := range y {
			out.WriteString("+ " + l + "\n")
		}
		return out.String()
	}
	// lcs[i][j] is the length of the LCS of x[i:] and y[j:].
	n, m := len(x), len(y)
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case x[i] == y[j]:
			out.WriteString("  " + x[i] + "\n")
			i++
			j++
		case lcs[i+1][j] >= lcs[i][j+1]:
			out.WriteString("- " + x[i] + "\n")
			i++
		default:
			out.WriteString("+ " + y[j] + "\n")
			j++
		}
	}
	for ; i < n; i++ {
		out.WriteString("- " + x[i] + "\n")
	}
	for ; j < m; j++ {
		out.WriteString("+ " + y[j] + "\n")
	}
	return out.String()
}

func lines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
