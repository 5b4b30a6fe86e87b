/**
 * Change notifications carry ids only: each one is re-read (fresh, not from the operation's
 * loaders) and dropped when the subscriber may not see it, or when `wanted` says no.
 */
export async function* visibleChanges<Change, Row>(
  changes: AsyncIterable<Change>,
  wanted: (change: Change) => boolean,
  read: (change: Change) => Promise<Row | undefined>,
): AsyncGenerator<Row> {
  for await (const change of changes) {
    if (!wanted(change)) continue;
    const row = await read(change);
    if (row !== undefined) yield row;
  }
}
