/** The recipient as the provider should see it: E.164 passed through, stray whitespace dropped. */
export function recipient(to: string): string {
  const trimmed = to.trim();
  if (!trimmed) throw new Error("no recipient number");
  return trimmed;
}

/** A string field from untyped JSON, or undefined. Numbers count: some APIs send ids and codes as either. */
export function textOf(value: unknown): string | undefined {
  if (typeof value === "string") return value || undefined;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return undefined;
}
