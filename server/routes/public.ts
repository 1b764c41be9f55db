/** Public routes: health, what the page needs to know, and tickets for anonymous writes. */

import { Hono } from 'hono';
import { generateCaseNumber, isCaseNumber, toBase64 } from '../../crypto/index.js';
import { exactObject, expectContentType, oneOf, parseJson, readBody } from '../body.js';
import type { Deps } from '../deps.js';
import { InvalidBodyError } from '../errors.js';
import { UPLOAD_BYTES_PER_SOLUTION } from '../proof.js';
import { issueTicket, TICKET_LIFETIME_SECONDS } from '../tickets.js';
import type { HealthAnswer, InfoAnswer, TicketAnswer } from '../../api/contract.js';

const SMALL_BODY = 1024;

export function publicRoutes(deps: Deps): Hono {
  const app = new Hono();

  app.get('/health', (c) =>
    c.json({ status: 'ok', version: deps.settings.version } satisfies HealthAnswer),
  );

  app.get('/info', (c) =>
    c.json({
      demo: deps.settings.demo,
      powBits: deps.settings.powBits,
      maxFileBytes: deps.settings.maxFileBytes,
      maxCaseBytes: deps.settings.maxCaseBytes,
      uploadBytesPerSolution: UPLOAD_BYTES_PER_SOLUTION,
      retentionDays: deps.settings.retentionDays,
      counsellors: deps.counsellors.map((b) => b.bundle),
      escalation: deps.escalation.map((b) => b.bundle),
    } satisfies InfoAnswer),
  );

  app.post('/tickets', async (c) => {
    expectContentType(c.req.raw, 'application/json');
    const body = exactObject(
      parseJson(await readBody(c.req.raw, SMALL_BODY)),
      { kind: oneOf('case', 'message', 'upload') },
      { case: isCaseNumberValue },
    );
    const kind = body.kind as 'case' | 'message' | 'upload';
    let caseNumber: string;
    if (kind === 'case') {
      if (body.case !== undefined) throw new InvalidBodyError('a case ticket takes no case number');
      // A fresh number, not in use. 40 random bits make a clash rare; the loop makes it impossible.
      do caseNumber = generateCaseNumber(deps.random);
      while (await deps.store.records.has(caseNumber));
    } else {
      if (body.case === undefined)
        throw new InvalidBodyError(`a ${kind} ticket needs the case number`);
      caseNumber = body.case as string;
    }
    const expires = Math.floor(deps.now() / 1000) + TICKET_LIFETIME_SECONDS;
    const ticket = issueTicket(deps.secret, kind, caseNumber, expires, deps.random(8));
    return c.json(
      {
        ticket: toBase64(ticket),
        bits: deps.settings.powBits,
        case: caseNumber,
        expires,
      } satisfies TicketAnswer,
      201,
    );
  });

  return app;
}

function isCaseNumberValue(value: unknown): boolean {
  return typeof value === 'string' && isCaseNumber(value);
}
