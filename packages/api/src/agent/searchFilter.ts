/**
 * A test over a whole file that is false only when no line of it can match `pattern`, so the
 * agent's search skips most files without splitting them into lines. Sound by construction:
 *
 * - a run of plain characters every match must contain (outside groups and classes, no
 *   alternation, the character before a quantifier left out) is looked for with `includes`,
 *   which is many times faster than running the expression;
 * - otherwise the expression itself with the `m` flag (`^`/`$` then match at line ends as they
 *   do at the ends of one line), except for patterns with negative lookarounds, which could
 *   fail on the neighbouring line's characters: those get no filter (null).
 */
export function wholeTextFilter(pattern: string): ((text: string) => boolean) | null {
  const literal = requiredLiteral(pattern);
  if (literal.length >= 2) return (text) => text.includes(literal);
  if (/\(\?<?!/.test(pattern)) return null;
  try {
    const re = new RegExp(pattern, 'm');
    return (text) => re.test(text);
  } catch {
    return null;
  }
}

/** The longest run of plain characters that every match of `pattern` contains ('' when unsure). */
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
