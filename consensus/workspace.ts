/**
 * The epoch's two n×n work matrices (weights → clipped weights → bonds, and the previous bonds), owned by the caller.
 *
 * An epoch at n = 2048 works on 2 × 32 MiB; allocating them afresh each call costs about as much CPU again as the
 * epoch itself (allocation, page faults, garbage collection). A caller that runs epochs repeatedly (the benchmark, a
 * node's epoch loop) keeps one workspace and passes it to `runEpoch(input, workspace)`. Contents never reach results:
 * every entry is written before it is read, so a workspace may be reused across inputs of any size. Not for
 * concurrent use (an epoch is synchronous; one per thread).
 */
export class EpochWorkspace {
  private readonly buffers: Array<Float64Array | undefined> = [undefined, undefined]

  /** Work matrix k (0: weights and bonds, 1: previous bonds) of at least `size` entries, as a view of exactly `size`. */
  matrix(k: 0 | 1, size: number): Float64Array {
    let b = this.buffers[k]
    if (b === undefined || b.length < size) {
      b = new Float64Array(size)
      this.buffers[k] = b
    }
    return b.subarray(0, size)
  }
}
