/**
 * Splits text into pieces of at most `size` UTF-16 units without ever cutting a surrogate
 * pair: an emoji on a boundary would otherwise come back as two replacement characters.
 */
export function splitText(text: string, size: number): string[] {
  if (size < 2) throw new RangeError("size must be at least 2");
  const pieces: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(start + size, text.length);
    const last = text.charCodeAt(end - 1);
    // A high surrogate at the end of a piece belongs with the low surrogate after it.
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
    pieces.push(text.slice(start, end));
    start = end;
  }
  return pieces;
}
