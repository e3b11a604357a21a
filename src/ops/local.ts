/** Whether a pid runs on this host. Pids are per host: a shared Redis may hold another host's pid 123. */
export function pidRunsHere(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
