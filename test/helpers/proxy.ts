/**
 * A TCP forwarder on the loopback, for faults that must happen at a chosen
 * moment: a test sees each chunk a client sends before the server gets it
 * (to stop the server right before a given command arrives), and can make
 * the server see the client come from another loopback address (127.0.0.2,
 * which Redis's protected mode does not count as local).
 */
import {readFileSync} from 'node:fs'
import {connect, createServer, type Server, type Socket} from 'node:net'

export interface ProxyOptions {
  /** Source address of the connections to the server. */
  localAddress?: string
  /** Told of every chunk a client sends, before it is forwarded; forwarding waits for it. */
  beforeForward?: (chunk: Buffer) => void | Promise<void>
}

export interface Proxy {
  port: number
  close(): Promise<void>
}

export async function startProxy(target: {host: string; port: number}, options: ProxyOptions = {}): Promise<Proxy> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((client) => {
    const upstream = connect({host: target.host, port: target.port, localAddress: options.localAddress})
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('error', () => undefined)
      s.on('close', () => {
        sockets.delete(s)
        client.destroy()
        upstream.destroy()
      })
    }
    upstream.on('data', (d) => client.write(d))
    // Chunks go on in order, each after the test has seen it.
    let forwarded = Promise.resolve()
    client.on('data', (chunk) => {
      forwarded = forwarded.then(async () => {
        await options.beforeForward?.(chunk)
        upstream.write(chunk)
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as {port: number}).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

/** Stops a process with SIGSTOP and returns once the kernel shows it stopped. */
export async function freeze(pid: number): Promise<void> {
  process.kill(pid, 'SIGSTOP')
  for (;;) {
    // /proc/PID/stat: "pid (comm) state …"; T is stopped.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'T') return
    await new Promise((r) => setTimeout(r, 10))
  }
}
