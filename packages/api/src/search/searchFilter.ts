/**
 * The literal prefilter of searches (SearchWorkers): a run of plain characters every match must
 * contain (outside groups and classes, no alternation, the character before a quantifier left
 * out), looked for with `includes` before the expression runs on a file, which skips most files
 * many times faster than running the expression. Sound by construction: '' when unsure.
 * The longest such run is returned.
 */
export function requiredLiteral(pattern: string): string {
  // Alternation, and escapes that span several characters (\x41, \u0041, \cA, \p{L}, \k<n>, \12).
  if (pattern.includes('|') || /\\[xucpPk0-9]/.test(pattern)) return '';
  let best = '';
  let run = '';
  let depth = 0;
  let inClass = false;
  const cut = () => {
    if (run.length > best.length) best = run;
    run = '';
  };
  for (let i = 0; i < pattern.length; i++) {
    let c = pattern[i]!;
    let literal = false;
    if (c === '\\') {
      c = pattern[++i] ?? '';
      literal = !inClass && depth === 0 && /^[^A-Za-z0-9]$/.test(c);
    } else if (inClass) {
      if (c === ']') inClass = false;
    } else if (c === '[') {
      inClass = true;
    } else if (c === '(') {
      depth++;
    } else if (c === ')') {
      depth--;
    } else if ('*+?{'.includes(c)) {
      // The character before a quantifier may be absent or repeated: not a sure part of the run.
      run = run.slice(0, -1);
      if (c === '{') i = pattern.includes('}', i) ? pattern.indexOf('}', i) : pattern.length;
    } else {
      literal = depth === 0 && !'.^$}'.includes(c);
    }
    if (literal) run += c;
    else cut();
  }
  cut();
  return best;
}
