/** What every read of the prefix takes, from the library's collector to each command's op. */
export interface ReadOptions {
  /** The key prefix, without its trailing `:`. */
  prefix: string
  /** SCAN's COUNT: keys asked for per round trip (defaults suit a million keys). */
  scanCount?: number
  /** Told the number of keys scanned so far, after each batch. */
  onProgress?: (scanned: number) => void
}
