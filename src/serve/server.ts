import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from '../core/logging.js';
import { renderHtml } from '../results/record/html.js';
import type { RunRecord } from '../results/record/types.js';
import type { UiEvent } from './events.js';
import type { UiHub } from './hub.js';
import { renderPage } from './page.js';
import type { RunController } from './run-controller.js';
import type { UiPrompter } from './ui-prompter.js';

/** A run in the history lists. */
export interface RunRow {
  id: string;
  started_at: string;
  serial_number: string | null;
  station: string | null;
  outcome: string;
  counts?: string;
}

/** What the page reads of the store. */
export interface History {
  recent(limit: number): Promise<RunRow[]>;
  unit(serial: string): Promise<RunRow[]>;
  /** A run's record and its attachments by stored path; undefined for an unknown id. */
  run(id: string): Promise<{ record: RunRecord; attachments: Map<string, Uint8Array> } | undefined>;
}

export interface ServerOptions {
  hub: UiHub;
  controller: RunController;
  prompter: UiPrompter;
  history: History;
  log: Logger;
  /** Required on every request when set (kiso serve on another address than loopback). */
  token?: string;
}

const TOKEN_COOKIE = 'kiso_token';

function sameSecret(given: string | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function tokenOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7);
  const cookie = request.headers.cookie?.split(';').map((part) => part.trim().split('=')).find(([name]) => name === TOKEN_COOKIE);
  return cookie ? decodeURIComponent(cookie[1] ?? '') : undefined;
}

/**
 * kiso serve's HTTP side: the page, its event stream and its few actions.
 * With a token, every request must carry it (Authorization: Bearer, or the
 * cookie that `/?token=...` sets once); the page itself never holds it.
 */
export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  const { hub, controller, prompter, history, token } = options;

  if (token) {
    app.addHook('onRequest', async (request, reply) => {
      const query = (request.query as Record<string, string | undefined>)?.token;
      if (request.url.split('?')[0] === '/' && query && sameSecret(query, token)) {
        // Trade the link's token for a cookie, and drop it from the address bar.
        return reply.header('set-cookie', `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`).redirect('/');
      }
      if (!sameSecret(tokenOf(request), token)) return reply.code(401).type('text/plain').send('kiso serve: this station needs its access token (open the link with ?token=..., or send Authorization: Bearer)');
    });
  }

  app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(renderPage()));

  app.get('/api/state', async () => hub.state);

  // Event streams never end on their own: closing the server ends them, or it would wait for them forever.
  const streams = new Set<FastifyReply['raw']>();
  app.addHook('preClose', async () => {
    for (const stream of streams) stream.end();
  });

  app.get('/api/events', (request: FastifyRequest, reply: FastifyReply) => {
    reply.hijack();
    const out = reply.raw;
    streams.add(out);
    out.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    const send = (event: UiEvent): void => {
      out.write(`data: ${JSON.stringify(event)}\n\n`);
    };
    const unsubscribe = hub.subscribe(send);
    // A comment line now and then: proxies and browsers keep the stream open.
    const keepAlive = setInterval(() => out.write(': keep-alive\n\n'), 15_000);
    request.raw.on('close', () => {
      clearInterval(keepAlive);
      unsubscribe();
      streams.delete(out);
    });
  });

  app.post('/api/runs', async (request, reply) => {
    const body = (request.body ?? {}) as { serials?: Record<string, string> };
    try {
      controller.start(body.serials ?? {});
      return reply.code(202).send({ ok: true });
    } catch (error) {
      return reply.code(409).send({ ok: false, error: (error as Error).message });
    }
  });

  app.post('/api/runs/current/abort', async (_request, reply) => (controller.abort() ? reply.send({ ok: true }) : reply.code(409).send({ ok: false, error: 'no run is going' })));

  app.post('/api/prompts/:id', async (request, reply) => {
    const { id } = request.params as { id: string };
    const { answer } = (request.body ?? {}) as { answer?: unknown };
    const result = prompter.answer(Number(id), answer);
    return result.ok ? reply.send({ ok: true }) : reply.code(result.status).send({ ok: false, error: result.error });
  });

  app.get('/api/runs', async (request) => {
    const limit = Math.min(200, Math.max(1, Number((request.query as { limit?: string }).limit ?? 20) || 20));
    return history.recent(limit);
  });

  app.get('/api/units/:serial', async (request) => history.unit((request.params as { serial: string }).serial));

  app.get('/runs/:id', async (request, reply) => {
    const found = await history.run((request.params as { id: string }).id);
    if (!found) return reply.code(404).type('text/plain').send('no such run');
    return reply.type('text/html; charset=utf-8').send(renderHtml(found.record, (_phase, ref) => found.attachments.get(ref.path)));
  });

  return app;
}
