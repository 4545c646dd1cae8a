// A line diff (longest common subsequence), for showing a policy draft against
// the published version before it is published. Each line of the result is
// [op, text] with op " " (kept), "-" (only in a) or "+" (only in b).

// MAX_CELLS bounds the LCS table; past it every line shows as removed and added.
const MAX_CELLS = 4e6;

export function lineDiff(a, b) {
  const x = split(a), y = split(b);
  if (x.length * y.length > MAX_CELLS) return [...x.map((l) => ["-", l]), ...y.map((l) => ["+", l])];
  const n = x.length, m = y.length;
  // lcs[i][j] is the LCS length of x[i:] and y[j:], in one flat array.
  const w = m + 1;
  const lcs = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * w + j] = x[i] === y[j] ? lcs[(i + 1) * w + j + 1] + 1 : Math.max(lcs[(i + 1) * w + j], lcs[i * w + j + 1]);
    }
  }
  const out = [];
  let i = 0, j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) { out.push([" ", x[i]]); i++; j++; }
    else if (lcs[(i + 1) * w + j] >= lcs[i * w + j + 1]) out.push(["-", x[i++]]);
    else out.push(["+", y[j++]]);
  }
  while (i < n) out.push(["-", x[i++]]);
  while (j < m) out.push(["+", y[j++]]);
  return out;
}

function split(s) {
  if (!s) return [];
  const l = s.replace(/\r\n/g, "\n").split("\n");
  if (l[l.length - 1] === "") l.pop();
  return l;
}

// parseServerDiff reads Studio's diff text ("  kept", "- gone", "+ new") into the
// same [op, text] lines.
export function parseServerDiff(text) {
  return split(text).map((l) => [l[0] === "-" || l[0] === "+" ? l[0] : " ", l.slice(2)]);
}
