/**
 * Numbers requests per key (a model id) so an answer older than one already applied for
 * that key is dropped: `const n = order.begin()`, then apply the answer only if
 * `order.accept(id, n)`. A value that arrives by other means (an event) is applied with
 * `order.accept(id, order.begin())`, which also outdates the requests still in flight.
 */
export class RequestOrder {
  private last = 0;
  private readonly applied = new Map<string, number>();

  /** The number of a request about to start. */
  begin(): number {
    return ++this.last;
  }

  /** Whether request `n`'s answer for `key` is newer than what is applied; if so it now is. */
  accept(key: string, n: number): boolean {
    if (n <= (this.applied.get(key) ?? 0)) return false;
    this.applied.set(key, n);
    return true;
  }
}
