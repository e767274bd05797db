import { DELIM, FLUSH, pktLine, readPackets } from './pkt-line.js';

/** How long a remote that would not speak protocol v2 (or could not be reached) is left to git. */
const RETRY_MS = 60_000;

export interface SmartHttpOptions {
  /** Per request (default 30 s). */
  timeoutMs?: number;
  /** A larger answer is left to git (default 32 MiB). */
  maxBytes?: number;
}

interface Capabilities {
  /** The server names its object format (then every command names it too). */
  objectFormat: string | null;
}

/** One ref update of a push: a compare-and-swap on the remote (`null`: absent before, or deleted). */
export interface RefCommand {
  ref: string;
  old: string | null;
  new: string | null;
}

/** The remote's answer to a push: per ref, `ok` or its reason for refusing. */
export interface PushReport {
  statuses: Map<string, { ok: true } | { ok: false; why: string }>;
  /** What the remote's hooks printed (`remote:` lines), for a refusal's message. */
  messages: string[];
}

interface PushCapabilities {
  caps: Set<string>;
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
  readonly #pushCaps = new Map<string, Promise<PushCapabilities | null>>();
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  #httpAgent: import('node:http').Agent | undefined;
  #httpsAgent: import('node:https').Agent | undefined;

  constructor(opts: SmartHttpOptions = {}) {
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
    this.#maxBytes = opts.maxBytes ?? 32 * 1024 * 1024;
  }

  /**
   * Whether `remote` is a URL this client may speak to: http or https, not through a proxy.
   * Git (libcurl) honours `http_proxy`, `https_proxy` and `all_proxy` unless `no_proxy`
   * names the host; node's requests do not, so a remote git reaches through a proxy is left
   * to git. (Everything else node may do differently, such as a CA bundle of git's own in
   * `GIT_SSL_CAINFO`, fails as a request and falls back to git. Settings kept in git's
   * config are invisible here: GASTOWN_GIT_HTTP=git leaves every request to git.)
   */
  static speaks(remote: string, env: NodeJS.ProcessEnv = process.env): boolean {
    let url: URL;
    try {
      url = new URL(remote);
    } catch {
      return false;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
    const scheme = url.protocol.slice(0, -1);
    const proxy = env[`${scheme}_proxy`] || env[`${scheme.toUpperCase()}_PROXY`] || env.all_proxy || env.ALL_PROXY;
    if (!proxy) return true;
    const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    const bypass = (env.no_proxy ?? env.NO_PROXY ?? '')
      .split(',')
      .map((e) => e.trim().toLowerCase().replace(/:\d+$/, ''))
      .filter(Boolean);
    return bypass.some((e) => e === '*' || host === e.replace(/^\./, '') || host.endsWith(e.startsWith('.') ? e : `.${e}`));
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

  /**
   * A push (`git-receive-pack`; gitprotocol-pack(5)): every command a compare-and-swap on the
   * remote (its old value must still be there, which is what `--force-with-lease` asks and
   * more), all or none with `atomic`, and `pack` holding the objects the new values need.
   * The remote's report, or null when git must push instead (nothing was updated then:
   * a server that cannot be spoken to, or one that could not unpack the pack).
   */
  async receivePack(
    remote: string,
    commands: RefCommand[],
    pack: Buffer | null,
    zeroOid: string,
    atomic = true,
  ): Promise<PushReport | null> {
    const target = this.#target(remote);
    if (!target || commands.length === 0) return null;
    const known = await remembered(this.#pushCaps, target.base, () => this.#pushAdvertisement(target));
    if (!known || !known.caps.has('report-status') || !known.caps.has('side-band-64k')) return null;
    if (atomic && !known.caps.has('atomic')) return null;
    if (commands.some((c) => c.new === null) && !known.caps.has('delete-refs')) return null;
    // Only what the server offered (`quiet` quiets its progress on the side band).
    const asked = ['report-status', 'side-band-64k', ...(known.caps.has('quiet') ? ['quiet'] : []), ...(atomic ? ['atomic'] : [])];
    if ([...known.caps].some((c) => c.startsWith('agent='))) asked.push('agent=git/gastown');
    if (known.objectFormat) asked.push(`object-format=${known.objectFormat}`);
    const lines = commands.map((c, i) => {
      const line = `${c.old ?? zeroOid} ${c.new ?? zeroOid} ${c.ref}`;
      return pktLine(i === 0 ? `${line}\0${asked.join(' ')}\n` : `${line}\n`);
    });
    // Git sends no pack when every command deletes.
    const body = Buffer.concat([...lines, FLUSH, ...(commands.some((c) => c.new !== null) && pack ? [pack] : [])]);
    const answer = await this.#request(`${target.base}/git-receive-pack`, {
      method: 'POST',
      headers: {
        ...target.headers,
        'content-type': 'application/x-git-receive-pack-request',
        accept: 'application/x-git-receive-pack-result',
      },
      body,
    });
    if (!answer) return null;
    try {
      const report: Buffer[] = [];
      const messages: string[] = [];
      for (const p of readPackets(answer)) {
        if (p.kind === 'flush') break;
        if (p.kind !== 'data' || p.data.length === 0) return null;
        if (p.data[0] === 1) report.push(p.data.subarray(1));
        else if (p.data[0] === 2)
          messages.push(
            ...p.data
              .subarray(1)
              .toString('utf8')
              .split(/[\r\n]+/)
              .filter(Boolean),
          );
        else if (p.data[0] === 3) return null;
      }
      const statuses: PushReport['statuses'] = new Map();
      let unpacked = false;
      for (const p of readPackets(Buffer.concat(report))) {
        if (p.kind !== 'data') continue;
        const line = p.data.toString('utf8').replace(/\n$/, '');
        if (line === 'unpack ok') unpacked = true;
        else if (line.startsWith('ok ')) statuses.set(line.slice(3), { ok: true });
        else if (line.startsWith('ng ')) {
          const rest = line.slice(3);
          const sp = rest.indexOf(' ');
          statuses.set(sp < 0 ? rest : rest.slice(0, sp), { ok: false, why: sp < 0 ? 'refused' : rest.slice(sp + 1) });
        }
      }
      // A pack the remote could not unpack moved nothing: git may try.
      return unpacked ? { statuses, messages } : null;
    } catch {
      return null;
    }
  }

  async #pushAdvertisement(target: { base: string; headers: Record<string, string> }): Promise<PushCapabilities | null> {
    const answer = await this.#request(`${target.base}/info/refs?service=git-receive-pack`, {
      method: 'GET',
      headers: target.headers,
    });
    if (!answer) return null;
    try {
      // `# service=git-receive-pack`, a flush, then the first ref (or `capabilities^{}`) with NUL and the capabilities.
      const first = readPackets(answer).find((p) => p.kind === 'data' && p.data.includes(0));
      if (!first || first.kind !== 'data') return null;
      const caps = new Set(
        first.data
          .subarray(first.data.indexOf(0) + 1)
          .toString('utf8')
          .trim()
          .split(' ')
          .filter(Boolean),
      );
      const format = [...caps].find((c) => c.startsWith('object-format='));
      return { caps, objectFormat: format ? format.slice('object-format='.length) : null };
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
    const headers: Record<string, string> = { 'user-agent': 'git/gastown' };
    if (url.username || url.password)
      headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
    url.username = '';
    url.password = '';
    url.hash = '';
    return { base: url.toString().replace(/\/+$/, ''), headers };
  }

  /** The server's v2 capabilities, asked once per remote (by URL without credentials) for this client's life. */
  #capabilities(target: { base: string; headers: Record<string, string> }): Promise<Capabilities | null> {
    return remembered(this.#caps, target.base, () => this.#advertisement(target));
  }

  async #advertisement(target: { base: string; headers: Record<string, string> }): Promise<Capabilities | null> {
    const answer = await this.#request(`${target.base}/info/refs?service=git-upload-pack`, {
      method: 'GET',
      headers: { ...target.headers, 'git-protocol': 'version=2' },
    });
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
        'git-protocol': 'version=2',
        'content-type': 'application/x-git-upload-pack-request',
        accept: 'application/x-git-upload-pack-result',
      },
      body,
    });
  }

  /**
   * One request on a kept-alive connection (node:http, not `fetch`: WHATWG streams and
   * Request objects cost more CPU than the request itself, and TLS handshakes with GitHub are
   * saved by keeping connections). The modules load on first use: the CLI, which never gets
   * here, does not pay for loading TLS.
   */
  async #request(url: string, init: { method: string; headers: Record<string, string>; body?: Buffer }): Promise<Buffer | null> {
    const target = new URL(url);
    const secure = target.protocol === 'https:';
    let request: typeof import('node:http').request;
    let agent: import('node:http').Agent;
    if (secure) {
      const https = await import('node:https');
      request = https.request;
      agent = this.#httpsAgent ??= new https.Agent({ keepAlive: true });
    } else {
      const http = await import('node:http');
      request = http.request;
      agent = this.#httpAgent ??= new http.Agent({ keepAlive: true });
    }
    return new Promise((resolve) => {
      const headers = { ...init.headers, ...(init.body ? { 'content-length': String(init.body.length) } : {}) };
      const req = request(target, { method: init.method, headers, agent, timeout: this.#timeoutMs }, (res) => {
        if (res.statusCode !== 200 || Number(res.headers['content-length'] ?? 0) > this.#maxBytes) {
          res.resume();
          resolve(null);
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > this.#maxBytes) {
            req.destroy();
            resolve(null);
          } else chunks.push(chunk);
        });
        res.on('end', () => resolve(Buffer.concat(chunks)));
        res.on('error', () => resolve(null));
        res.on('aborted', () => resolve(null));
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', () => resolve(null));
      req.end(init.body);
    });
  }

  /** Closes the kept-alive connections (they never keep the process alive; this frees them at once). */
  close(): void {
    this.#httpAgent?.destroy();
    this.#httpsAgent?.destroy();
  }
}

/** A v2 command's first packets: its name, the object format when the server names one, and the delimiter. */
function command(name: string, caps: Capabilities): Buffer[] {
  return [pktLine(`command=${name}\n`), ...(caps.objectFormat ? [pktLine(`object-format=${caps.objectFormat}\n`)] : []), DELIM];
}

/**
 * What a remote said about itself, asked once per remote (by URL without credentials) for
 * the client's life. A server that would not answer is asked again after a minute (a failure
 * to reach it may pass); meanwhile git does the work, without a failed request first each time.
 */
function remembered<T>(cache: Map<string, Promise<T | null>>, key: string, ask: () => Promise<T | null>): Promise<T | null> {
  const known = cache.get(key);
  if (known) return known;
  const asked = ask();
  cache.set(key, asked);
  void asked.then((answer) => {
    if (answer === null) setTimeout(() => cache.get(key) === asked && cache.delete(key), RETRY_MS).unref();
  });
  return asked;
}
