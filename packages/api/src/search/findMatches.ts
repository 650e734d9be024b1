/**
 * Project search, the pure part: matches of one query in a set of files, and the replacement text
 * for each match. It runs inside a worker thread (see SearchWorkers): a user's regular expression
 * may backtrack for ever, and only a worker can be stopped. So this module is self-contained: no
 * imports, and `runSearch` (with everything it calls nested inside it) is sent to the worker as
 * source text.
 */

export interface SearchQuery {
  pattern: string;
  regex: boolean;
  caseSensitive: boolean;
  wholeWord: boolean;
  /** Comma-separated globs: only paths matching one of them (empty: every file). */
  include: string;
  /** Comma-separated globs: paths matching one of them are skipped. */
  exclude: string;
  /** Unicode-mode expression (the `u` flag). Default true; the agent's search uses plain JavaScript ones. */
  unicode?: boolean;
}

export interface SearchFile { path: string; content: string }

export interface SearchLimits {
  maxMatches: number;
  maxMatchesPerFile: number;
  previewChars: number;
  /** At most one match per line (the agent's search reports lines). */
  onePerLine?: boolean;
}

export interface FileMatch {
  /** Offsets in the file's text (UTF-16), end exclusive. */
  start: number;
  end: number;
  /** 1-based line and column of `start`. */
  line: number;
  column: number;
  /** The line around the match, and where the match is inside it. */
  preview: string;
  previewStart: number;
  previewEnd: number;
  /** What a replace puts here (the template expanded: $1, $<name>, $&, $$). Only when asked. */
  replacement?: string;
}

export interface SearchOutcome {
  files: { path: string; matches: FileMatch[] }[];
  matchCount: number;
  /** True when a limit cut the result short. */
  truncated: boolean;
  /** The pattern or a glob is not valid (the message says why); nothing was searched. */
  invalid?: string;
}

/** `literal`: a run of characters every match contains (files without it are skipped unsearched). */
export function runSearch(files: SearchFile[], query: SearchQuery, limits: SearchLimits, replacement: string | null, literal = ''): SearchOutcome {
  function globToRegExp(glob: string): RegExp {
    let re = '';
    for (let i = 0; i < glob.length; i++) {
      const c = glob[i]!;
      if (c === '*') {
        if (glob[i + 1] === '*') {
          i++;
          if (glob[i + 1] === '/') { i++; re += '(?:.*/)?'; } else re += '.*';
        } else re += '[^/]*';
      } else if (c === '?') re += '[^/]';
      else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
    // A glob without a slash matches a name anywhere ("*.ts", "node_modules"); a folder matches its contents.
    const anywhere = glob.includes('/') ? '' : '(?:.*/)?';
    return new RegExp(`^${anywhere}${re}(?:/.*)?$`);
  }
  function globs(list: string): RegExp[] {
    return list.split(',').map((g) => g.trim().replace(/^\.\//, '').replace(/^\//, '')).filter(Boolean).map(globToRegExp);
  }
  function expand(template: string, m: RegExpExecArray): string {
    return template.replace(/\$(\$|&|<([^>]*)>|(\d{1,2}))/g, (whole, what: string, name: string | undefined, num: string | undefined) => {
      if (what === '$') return '$';
      if (what === '&') return m[0];
      if (name !== undefined) return m.groups?.[name] ?? '';
      const n = Number(num);
      return n > 0 && n < m.length ? (m[n] ?? '') : whole;
    });
  }

  let matcher: RegExp;
  let include: RegExp[];
  let exclude: RegExp[];
  try {
    let source = query.regex ? query.pattern : query.pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    if (query.wholeWord) source = `(?<![\\p{L}\\p{N}_])(?:${source})(?![\\p{L}\\p{N}_])`;
    matcher = new RegExp(source, `gm${query.unicode === false && !query.wholeWord ? '' : 'u'}${query.caseSensitive ? '' : 'i'}`);
    include = globs(query.include);
    exclude = globs(query.exclude);
  } catch (e) {
    return { files: [], matchCount: 0, truncated: false, invalid: e instanceof Error ? e.message : String(e) };
  }

  const out: SearchOutcome = { files: [], matchCount: 0, truncated: false };
  for (const file of files) {
    if (include.length > 0 && !include.some((g) => g.test(file.path))) continue;
    if (exclude.some((g) => g.test(file.path))) continue;
    const text = file.content;
    if (literal && !text.includes(literal)) continue;
    const matches: FileMatch[] = [];
    let line = 1;
    let lineStart = 0;
    let scanned = 0;
    matcher.lastIndex = 0;
    for (let m = matcher.exec(text); m; m = matcher.exec(text)) {
      if (m[0].length === 0) {
        matcher.lastIndex++; // empty matches (e.g. "^") are not results; step past them
        continue;
      }
      if (out.matchCount >= limits.maxMatches || matches.length >= limits.maxMatchesPerFile) {
        out.truncated = true;
        break;
      }
      for (let i = text.indexOf('\n', scanned); i !== -1 && i < m.index; i = text.indexOf('\n', i + 1)) {
        line++;
        lineStart = i + 1;
      }
      scanned = m.index;
      const lineEnd = text.indexOf('\n', m.index);
      const fullEnd = lineEnd === -1 ? text.length : lineEnd;
      const from = Math.max(lineStart, m.index - Math.floor(limits.previewChars / 3));
      const to = Math.min(fullEnd, Math.max(m.index + m[0].length, from + limits.previewChars));
      const match: FileMatch = {
        start: m.index, end: m.index + m[0].length, line, column: m.index - lineStart + 1,
        preview: text.slice(from, to), previewStart: m.index - from, previewEnd: Math.min(to, m.index + m[0].length) - from,
      };
      if (replacement !== null) match.replacement = query.regex ? expand(replacement, m) : replacement;
      matches.push(match);
      out.matchCount++;
      if (limits.onePerLine) matcher.lastIndex = fullEnd;
    }
    if (matches.length > 0) out.files.push({ path: file.path, matches });
    if (out.matchCount >= limits.maxMatches) {
      out.truncated = out.truncated || files.indexOf(file) < files.length - 1;
      break;
    }
  }
  return out;
}
