const encoder = new TextEncoder();

/**
 * Compares two secrets in constant time.
 * Both sides are hashed first so the comparison always runs over 32 equal-length
 * bytes: neither the content nor the length of the expected secret leaks through timing.
 */
export async function safeEqual(a: string, b: string): Promise<boolean> {
  const [da, db] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(a)),
    crypto.subtle.digest("SHA-256", encoder.encode(b)),
  ]);
  return crypto.subtle.timingSafeEqual(da, db);
}
