/**
 * Cycle finding over the step graph, where `next[i]` lists the steps that need step `i` (edges point
 * in execution order). Pure and iterative: at most MAX_STEPS nodes, no recursion.
 */

/** Tarjan's strongly connected components, iterative (steps are at most MAX_STEPS). */
export function stronglyConnected(next: number[][]): number[][] {
  const n = next.length
  const index = new Array<number>(n).fill(-1)
  const low = new Array<number>(n).fill(0)
  const onStack = new Array<boolean>(n).fill(false)
  const stack: number[] = []
  const groups: number[][] = []
  let counter = 0
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue
    const work: Array<[number, number]> = [[root, 0]]
    while (work.length > 0) {
      const frame = work[work.length - 1]!
      const [v, edge] = frame
      if (edge === 0) {
        index[v] = low[v] = counter++
        stack.push(v)
        onStack[v] = true
      }
      if (edge < next[v]!.length) {
        frame[1] = edge + 1
        const w = next[v]![edge]!
        if (index[w] === -1) work.push([w, 0])
        else if (onStack[w]) low[v] = Math.min(low[v]!, index[w]!)
        continue
      }
      work.pop()
      const parentFrame = work[work.length - 1]
      if (parentFrame) low[parentFrame[0]] = Math.min(low[parentFrame[0]]!, low[v]!)
      if (low[v] === index[v]) {
        const group: number[] = []
        let w: number
        do {
          w = stack.pop()!
          onStack[w] = false
          group.push(w)
        } while (w !== v)
        groups.push(group)
      }
    }
  }
  return groups
}

/** Shortest path start → … → start inside one group (breadth first), as the list of its nodes. */
export function shortestCycle(start: number, next: number[][], group: Set<number>): number[] {
  const cameFrom = new Map<number, number>()
  const queue = [start]
  while (queue.length > 0) {
    const v = queue.shift()!
    for (const w of next[v]!) {
      if (!group.has(w)) continue
      if (w === start) {
        const path = [v]
        let u = v
        while (u !== start) {
          u = cameFrom.get(u)!
          path.push(u)
        }
        return path.reverse()
      }
      if (!cameFrom.has(w)) {
        cameFrom.set(w, v)
        queue.push(w)
      }
    }
  }
  return [start]
}
