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
    let caps = this.#pushCaps.get(target.base);
    if (!caps) {
      caps = this.#pushAdvertisement(target);
      this.#pushCaps.set(target.base, caps);
      void caps.then((c) => c === null && this.#pushCaps.get(target.base) === caps && this.#pushCaps.delete(target.base));
    }
    const known = await caps;
    if (!known || !known.caps.has('report-status') || !known.caps.has('side-band-64k')) return null;
    if (atomic && !known.caps.has('atomic')) return null;
    if (commands.some((c) => c.new === null) && !known.caps.has('delete-refs')) return null;
    const asked = ['report-status', 'side-band-64k', 'quiet', ...(atomic ? ['atomic'] : []), 'agent=git/gastown'];
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
