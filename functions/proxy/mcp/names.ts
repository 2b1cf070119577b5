/**
 * What a method, tool, prompt or resource name could be taken for (pure). Policy rules match
 * names exactly, but an upstream may be looser — fold case, apply NFKC, trim, drop invisible
 * characters, decode `%xx` — so a name that folds to a ruled one needs that rule's scopes too:
 * `Tools/call`, `ＥＣＨＯ_TOOL` or `echo\u200b_tool` never need fewer scopes than what they look
 * like. Cross-script look-alikes (Cyrillic `е` for Latin `e`) are not folded: no lookup an
 * upstream does turns one into the other, so they are different names (and unlisted ones).
 */

const VISIBLE_ASCII = /^[\x21-\x7e]*$/;
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\p{White_Space}\p{Cc}\p{Cf}]/gu;

/** NFKC, without invisible characters, case-folded (upper then lower: `ß` → `ss`, `ı` → `i`). */
export function fold(name: string): string {
  // Visible ASCII (every MCP method, most names): NFKC and the invisible set leave it unchanged.
  if (VISIBLE_ASCII.test(name)) return name.toLowerCase();
  const n = name.normalize('NFKC').replace(INVISIBLE, '');
  return n.toUpperCase().toLowerCase().normalize('NFKC');
}

/** `%xx` decoded until stable (at most three rounds), malformed escapes kept. */
function decodeAll(uri: string): string {
  let s = uri;
  for (let i = 0; i < 3; i++) {
    const next = s.replace(/(%[0-9a-f]{2})+/gi, (m) => {
      try {
        return decodeURIComponent(m);
      } catch {
        return m;
      }
    });
    if (next === s) break;
    s = next;
  }
  return s;
}

/** A resource URI's fold: decoded, dot segments resolved where it parses as a URL, then `fold`. */
export function foldUri(uri: string): string {
  const decoded = decodeAll(uri);
  let normal = decoded;
  try {
    normal = new URL(decoded).href;
  } catch {
    // not a URL: folded as written
  }
  return fold(normal);
}
