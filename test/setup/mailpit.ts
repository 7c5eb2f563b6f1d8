import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './net';

/** What mailpit's API says about one received message. */
export interface ReceivedMail {
  ID: string;
  MessageID: string;
  Subject: string;
  To: Array<{ Address: string }>;
  Text: string;
  HTML: string;
}

export interface Mailpit {
  /** For SMTP_URL. */
  smtpUrl: string;
  /** Every message received for an address, oldest first, read through mailpit's API. */
  messagesTo(address: string): Promise<ReceivedMail[]>;
  headersOf(id: string): Promise<Record<string, string[]>>;
  /**
   * Makes every SMTP exchange fail at a stage with mailpit's chaos triggers (only with `chaos`):
   * `Recipient` answers RCPT TO with the code, `Authentication` refuses AUTH; null stops it.
   */
  failEvery(stage: 'Recipient' | 'Authentication', errorCode: number | null): Promise<void>;
  close(): Promise<void>;
}

/**
 * A real SMTP server on loopback (mailpit, built by scripts/mailpit-bin.sh; MAILPIT_PATH from the
 * test command). Recipients not matching `allowedRecipients` are refused with 550 at RCPT TO, as a
 * mail server refuses a mailbox that does not exist.
 */
export async function startMailpit({ allowedRecipients, chaos = false }: { allowedRecipients?: string; chaos?: boolean } = {}): Promise<Mailpit> {
  const binary = process.env.MAILPIT_PATH;
  if (!binary) throw new Error('MAILPIT_PATH is not set: run the tests with npm test (scripts/test.sh builds mailpit)');
  const [smtpPort, httpPort] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'herald-mailpit-'));
  const args = ['--smtp', `127.0.0.1:${smtpPort}`, '--listen', `127.0.0.1:${httpPort}`, '--database', join(dir, 'mail.db'), '--disable-version-check'];
  if (allowedRecipients) args.push('--smtp-allowed-recipients', allowedRecipients);
  // Chaos needs AUTH on offer to refuse it: any credentials are taken, over plain loopback SMTP.
  if (chaos) args.push('--enable-chaos', '--smtp-auth-accept-any', '--smtp-auth-allow-insecure');
  const child: ChildProcess = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const api = `http://127.0.0.1:${httpPort}/api/v1`;
  const get = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${api}${path}`);
    if (!response.ok) throw new Error(`mailpit ${path}: HTTP ${response.status}`);
    return (await response.json()) as T;
  };

  for (const deadline = Date.now() + 15_000; ; ) {
    if (child.exitCode !== null) throw new Error(`mailpit exited (${child.exitCode}): ${stderr}`);
    const up = await fetch(`http://127.0.0.1:${httpPort}/livez`).then((r) => r.ok, () => false);
    if (up) break;
    if (Date.now() > deadline) throw new Error(`mailpit did not start within 15 s: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return {
    smtpUrl: `smtp://127.0.0.1:${smtpPort}`,
    async messagesTo(address) {
      const { messages } = await get<{ messages: Array<{ ID: string }> }>(`/search?query=${encodeURIComponent(`to:"${address}"`)}`);
      // The search answers newest first.
      return Promise.all(messages.reverse().map((m) => get<ReceivedMail>(`/message/${m.ID}`)));
    },
    headersOf: (id) => get(`/message/${id}/headers`),
    async failEvery(stage, errorCode) {
      const response = await fetch(`${api}/chaos`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ [stage]: { ErrorCode: errorCode ?? 451, Probability: errorCode === null ? 0 : 100 } }),
      });
      if (!response.ok) throw new Error(`mailpit chaos: HTTP ${response.status}`);
    },
    async close() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
