import { DELIM, FLUSH, pktLine, readPackets } from './pkt-line.js';

export interface SmartHttpOptions {
  /** Per request (default 30 s). */
  timeoutMs?: number;
  /** A larger answer is left to git (default 32 MiB). */
  maxBytes?: number;
  /** For tests: the fetch to use (default the global one). */
  fetch?: typeof fetch;
}

interface Capabilities {
  /** The server names its object format (then every command names it too). */
  objectFormat: string | null;
}

/**
 * The read side of git's smart HTTP protocol, version 2 (gitprotocol-v2(5), gitprotocol-http(5)),
 * spoken in-process: `ls-refs` limited to ref prefixes, and `fetch` of a few objects by id.
 *
 * Why: the app's mirror syncs on almost every webhook, and over HTTP each `git fetch` is
 * three processes (fetch, `git-remote-http`, the connectivity check's `rev-list`) and each
 * `git ls-remote` two, forked from a process of a few hundred megabytes. In the GitHub
 * loop bench those were most of the app's CPU per bead. A request from node costs a
 * fraction of that.
 *
 * Anything this client does not handle (a server without protocol v2, a redirect, an
 * answer it cannot parse, a network error) comes back as null, and the caller does what it
 * did before: run git. So this is only ever a faster path to the same answer. Pushes stay
 * git's. Remotes reached through a proxy (`http_proxy` and friends in the environment,
 * which git honours and node's fetch does not) are left to git altogether.
 *
 * One instance per long-lived owner (the app's `LedgerMirrors`), which keeps each remote's
 * capabilities; nothing here is module-level state.
 */
export class SmartHttp {
  readonly #caps = new Map<string, Promise<Capabilities | null>>();
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  readonly #fetch: typeof fetch;

  constructor(opts: SmartHttpOptions = {}) {
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
    this.#maxBytes = opts.maxBytes ?? 32 * 1024 * 1024;
    this.#fetch = opts.fetch ?? fetch;
  }

  /** Whether `remote` is a URL this client may speak to (http or https, and no proxy configured). */
  static speaks(remote: string, env: NodeJS.ProcessEnv = process.env): boolean {
    if (!/^https?:\/\//i.test(remote)) return false;
    for (const name of ['http_proxy', 'https_proxy', 'all_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY']) if (env[name]) return false;
    return true;
  }

  /** The remote's refs under any of `prefixes` (`ls-refs` with `ref-prefix`), or null: ask git. */
  async lsRefs(remote: string, prefixes: string[]): Promise<Map<string, string> | null> {
    const target = this.#target(remote);
    const caps = target && (await this.#capabilities(target));
    if (!target || !caps) return null;
    const body = Buffer.concat([...command('ls-refs', caps), ...prefixes.map((p) => pktLine(`ref-prefix ${p}\n`)), FLUSH]);
    const answer = await this.#post(target, body);
    if (!answer) return null;
    try {
      const refs = new Map<string, string>();
      for (const p of readPackets(answer)) {
        if (p.kind === 'flush') return refs;
        if (p.kind !== 'data') return null;
        const line = p.data.toString('utf8').replace(/\n$/, '');
        const sp = line.indexOf(' ');
        if (sp <= 0) return null;
        const ref = line.slice(sp + 1).split(' ')[0]!;
        // `ref-prefix` is a hint the server may ignore: keep only what was asked for.
        if (prefixes.some((prefix) => ref.startsWith(prefix))) refs.set(ref, line.slice(0, sp));
      }
      return null; // no flush: cut short
    } catch {
      return null;
    }
  }

  /**
   * The packfile the remote sends for `wants` (object ids) given `haves` (ids this side holds
   * with everything they reach), with deltas only against objects in the pack (no thin pack),
   * or null: ask git.
   */
  async fetchPack(remote: string, wants: string[], haves: string[]): Promise<Buffer | null> {
    const target = this.#target(remote);
    const caps = target && (await this.#capabilities(target));
    if (!target || !caps || wants.length === 0) return null;
    const body = Buffer.concat([
      ...command('fetch', caps),
      pktLine('ofs-delta\n'),
      pktLine('no-progress\n'),
      ...wants.map((oid) => pktLine(`want ${oid}\n`)),
      ...haves.map((oid) => pktLine(`have ${oid}\n`)),
      pktLine('done\n'),
      FLUSH,
    ]);
    const answer = await this.#post(target, body);
    if (!answer) return null;
    try {
      const packets = readPackets(answer);
      // With `done` the server skips acknowledgments and may send other sections (none asked
      // for here) before `packfile`; the pack is multiplexed: band 1 data, 2 progress, 3 error.
      const start = packets.findIndex((p) => p.kind === 'data' && p.data.toString('latin1') === 'packfile\n');
      if (start < 0) return null;
      const parts: Buffer[] = [];
      for (const p of packets.slice(start + 1)) {
        if (p.kind === 'flush') return Buffer.concat(parts);
        if (p.kind !== 'data' || p.data.length === 0) return null;
        const band = p.data[0];
        if (band === 1) parts.push(p.data.subarray(1));
        else if (band === 3) return null;
      }
      return null;
    } catch {
      return null;
    }
  }

  /** The URL without credentials, and the credentials as a Basic authorization (as git sends them from a URL). */
  #target(remote: string): { base: string; headers: Record<string, string> } | null {
    if (!SmartHttp.speaks(remote)) return null;
    let url: URL;
    try {
      url = new URL(remote);
    } catch {
      return null;
    }
    const headers: Record<string, string> = { 'user-agent': 'git/gastown', 'git-protocol': 'version=2' };
    if (url.username || url.password)
      headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
    url.username = '';
    url.password = '';
    url.hash = '';
    return { base: url.toString().replace(/\/+$/, ''), headers };
  }

  /** The server's v2 capabilities, asked once per remote (by URL without credentials) for this client's life. */
  #capabilities(target: { base: string; headers: Record<string, string> }): Promise<Capabilities | null> {
    let caps = this.#caps.get(target.base);
    if (!caps) {
      caps = this.#advertisement(target);
      this.#caps.set(target.base, caps);
      // A failure to reach it is not a property of the server: asked again next time.
      void caps.then((c) => c === null && this.#caps.get(target.base) === caps && this.#caps.delete(target.base));
    }
    return caps;
  }

  async #advertisement(target: { base: string; headers: Record<string, string> }): Promise<Capabilities | null> {
    const answer = await this.#request(`${target.base}/info/refs?service=git-upload-pack`, { method: 'GET', headers: target.headers });
    if (!answer) return null;
    try {
      const lines = readPackets(answer)
        .filter((p) => p.kind === 'data')
        .map((p) => (p.kind === 'data' ? p.data.toString('utf8').replace(/\n$/, '') : ''));
      // `# service=git-upload-pack`, then (v2) `version 2` and one capability per line.
      const at = lines.indexOf('version 2');
      if (at < 0) return null;
      const caps = lines.slice(at + 1);
      const has = (name: string) => caps.find((c) => c === name || c.startsWith(`${name}=`));
      if (!has('ls-refs') || !has('fetch')) return null;
      const format = has('object-format');
      return { objectFormat: format ? format.slice('object-format='.length) : null };
    } catch {
      return null;
    }
  }

  #post(target: { base: string; headers: Record<string, string> }, body: Buffer): Promise<Buffer | null> {
    return this.#request(`${target.base}/git-upload-pack`, {
      method: 'POST',
      headers: {
        ...target.headers,
        'content-type': 'application/x-git-upload-pack-request',
        accept: 'application/x-git-upload-pack-result',
      },
      body,
    });
  }

  async #request(url: string, init: { method: string; headers: Record<string, string>; body?: Buffer }): Promise<Buffer | null> {
    try {
      const res = await this.#fetch(url, {
        method: init.method,
        headers: init.headers,
        ...(init.body ? { body: new Uint8Array(init.body) } : {}),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      if (res.status !== 200) {
        await res.body?.cancel().catch(() => undefined);
        return null;
      }
      const length = Number(res.headers.get('content-length') ?? 0);
      if (length > this.#maxBytes) {
        await res.body?.cancel().catch(() => undefined);
        return null;
      }
      const bytes = Buffer.from(await res.arrayBuffer());
      return bytes.length > this.#maxBytes ? null : bytes;
    } catch {
      return null;
    }
  }
}

/** A v2 command's first packets: its name, the object format when the server names one, and the delimiter. */
function command(name: string, caps: Capabilities): Buffer[] {
  return [pktLine(`command=${name}\n`), ...(caps.objectFormat ? [pktLine(`object-format=${caps.objectFormat}\n`)] : []), DELIM];
}
