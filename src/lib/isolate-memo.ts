/**
 * A few seconds of memory in one isolate, for reads a busy path repeats (an agent's config, its
 * webhook secrets, a healthy webhook target). Bounded, oldest out first. A value read before the
 * last `forget` made in this isolate is not kept, so a write made here is seen at once; other
 * isolates see it once their entry runs out.
 */
export class IsolateMemo<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();
  private forgets = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 1_000,
  ) {}

  /** The value kept for `key`, or undefined when none is, or it has run out. */
  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    return entry && entry.until > Date.now() ? entry.value : undefined;
  }

  /** Taken before a read and handed to `set`: a read that a `forget` overtook is not kept. */
  mark(): number {
    return this.forgets;
  }

  set(key: string, value: V, readSince = this.forgets): void {
    if (readSince !== this.forgets) return;
    if (this.entries.size >= this.maxEntries && !this.entries.has(key)) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { value, until: Date.now() + this.ttlMs });
  }

  forget(key: string): void {
    this.forgets++;
    this.entries.delete(key);
  }
}
