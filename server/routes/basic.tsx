/** @jsxImportSource hono/jsx */
/**
 * The no-JavaScript pages (Tor Browser at Safest), under /basic/ (mounted at the root, so that
 * both /basic and /basic/ are the start page): write a report with files, get
 * the receipt code, come back with it, read the conversation and its attachments, reply. The
 * server seals on arrival (basic/seal.ts) and keeps nothing in the clear; the code lives for one
 * response and is never in a URL or a log. Writes pass the gate (basic/gate.ts) before a byte of
 * the body is read. Refusals are HTML pages in the reporter's language with the stable error code.
 */

import { type Context, Hono } from 'hono';
import {
  AttachmentDecryptor,
  type Consent,
  formatReceiptCode,
  MAX_RECIPIENTS,
  MAX_TEXT_LENGTH,
  toBase64,
} from '../../crypto/index.js';
import { CasePage } from '../basic/case-page.js';
import {
  BASIC_FORM_LIMIT,
  BASIC_MAX_FILES,
  BasicClosedError,
  type BasicForm,
  BasicInputError,
  readForm,
} from '../basic/form.js';
import type { BasicGate } from '../basic/gate.js';
import {
  BASIC,
  ErrorPage,
  htmlResponse,
  ReceiptPage,
  ReturnPage,
  WritePage,
} from '../basic/pages.js';
import { BASIC_CSS } from '../basic/style.js';
import { newReporter, sealFile, sealReply, sealReport } from '../basic/seal.js';
import { chooseLanguage, type SiteConfigTexts, type Texts, textsFor } from '../basic/texts.js';
import {
  checkFiles,
  completed,
  forget,
  type OpenedCase,
  openCase,
  pending,
  rfc5987,
  storeBlobs,
  update,
} from '../basic/writes.js';
import { currentHour, type Deps } from '../deps.js';
import { HttpError, NotFoundError, SeqConflictError, TooLargeError } from '../errors.js';
import type { PageParties } from '../page-keys.js';
import { RECORD_OVERHEAD_BYTES } from '../quota.js';
import type { CaseRecord } from '../records.js';
import { MAX_CONVERSATION_BYTES, MAX_MESSAGES } from './cases.js';

/** What the pages need besides the common dependencies. */
export interface BasicDeps {
  /** Who to seal for and trust (the served page's keys, narrowed by the server's list). */
  readonly parties: PageParties;
  /** The site's texts, from the built page. */
  readonly site: SiteConfigTexts;
  readonly gate: BasicGate;
}

const ERROR_KEYS: Readonly<Record<string, string>> = {
  unauthorized: 'basicErrorWrongCode',
  'too-many-attempts': 'basicErrorTooManyAttempts',
  'too-large': 'basicErrorTooLong',
  'not-found': 'basicErrorNotFound',
  'seq-conflict': 'basicErrorConflict',
};

export function basicRoutes(deps: Deps, basic: BasicDeps): Hono {
  const app = new Hono();
  const maxMb = Math.floor(BASIC_FORM_LIMIT / (1024 * 1024));
  const textsOf = (c: Context): Texts =>
    textsFor(chooseLanguage(c.req.query('lang'), c.req.header('accept-language')), basic.site);

  /** Runs a page; a refusal becomes a translated page with its status and stable code. */
  const page =
    (handler: (c: Context, texts: Texts) => Promise<Response> | Response) =>
    async (c: Context): Promise<Response> => {
      const texts = textsOf(c);
      try {
        return await handler(c, texts);
      } catch (error) {
        if (!(error instanceof HttpError)) throw error;
        if (error.status === 503 || error.code === 'store-full') return busyPage(texts, error.code);
        const key =
          error instanceof BasicInputError || error instanceof BasicClosedError
            ? error.key
            : (ERROR_KEYS[error.code] ?? 'basicErrorForm');
        return htmlResponse(
          error.status,
          <ErrorPage
            texts={texts}
            title={texts.t('basicErrorTitle')}
            message={texts.t(key, { max: BASIC_MAX_FILES })}
            code={error.code}
          />,
        );
      }
    };

  const busyPage = (texts: Texts, code: string) =>
    htmlResponse(
      503,
      <ErrorPage
        texts={texts}
        title={texts.t('basicBusyTitle')}
        message={texts.t('basicBusy')}
        code={code}
      />,
    );

  /** Runs a write through the gate: refused before the body is read when the gate is shut. */
  const gated =
    (handler: (c: Context, texts: Texts) => Promise<Response>) =>
    async (c: Context, texts: Texts): Promise<Response> => {
      const leave = await basic.gate.enter();
      if (typeof leave === 'string') {
        c.header('Connection', 'close');
        return busyPage(texts, 'busy');
      }
      let refund = false;
      try {
        return await handler(c, texts);
      } catch (error) {
        refund = error instanceof BasicInputError;
        throw error;
      } finally {
        leave(refund);
      }
    };

  app.get(`${BASIC}/basic.css`, (c) =>
    c.body(BASIC_CSS, 200, { 'Content-Type': 'text/css; charset=utf-8' }),
  );
  const start = page((_c, texts) =>
    htmlResponse(200, <WritePage texts={texts} maxFiles={BASIC_MAX_FILES} maxMb={maxMb} />),
  );
  app.get(BASIC, start);
  app.get(`${BASIC}/`, start);
  app.get(
    `${BASIC}/return`,
    page((_c, texts) => htmlResponse(200, <ReturnPage texts={texts} />)),
  );

  app.post(
    `${BASIC}/report`,
    page(
      gated(async (c, texts) => {
        const counsellors = basic.parties.counsellors;
        if (counsellors.length === 0 || counsellors.length + 1 > MAX_RECIPIENTS)
          throw new BasicClosedError('no counsellor keys: nothing can be sealed');
        await deps.quota.check(RECORD_OVERHEAD_BYTES, BASIC_FORM_LIMIT);
        const form = await readForm(c.req.raw, true);
        try {
          const text = form.text('text') ?? '';
          const consent = form.text('consent');
          const addressAs = (form.text('addressAs') ?? '').trim();
          if (text.trim() === '') throw new BasicInputError('basicErrorEmpty', 'text is empty');
          if (text.length > MAX_TEXT_LENGTH || addressAs.length > 200)
            throw new BasicInputError('basicErrorTooLong', 'text too long');
          if (consent !== 'no' && consent !== 'ask' && consent !== 'yes')
            throw new BasicInputError('basicErrorConsent', 'consent is missing');
          checkFiles(deps, form);
          const { code, keys } = await newReporter(deps.random, (n) => deps.store.records.has(n));
          // The code and its keys are zeroed when this response is made, sent or not.
          try {
            const sealed = form.files.map((file) => sealFile(file, deps.random));
            const envelope = sealReport(
              { text, consent: consent as Consent, addressAs, language: texts.lang },
              code,
              keys,
              sealed.map((s) => s.ref),
              counsellors,
              deps.random,
            );
            const blobBytes = sealed.reduce((sum, s) => sum + s.length, 0);
            const bytes = RECORD_OVERHEAD_BYTES + envelope.ct.length + blobBytes;
            await deps.quota.check(bytes, bytes);
            const hour = currentHour(deps);
            const report = { seq: 0, hour, author: 'reporter' as const, envelope };
            const record: CaseRecord = {
              v: 1,
              case: code.caseNumber,
              createdHour: hour,
              verifier: toBase64(keys.verifier),
              status: 'received',
              statusHour: hour,
              ackHour: null,
              // With files, the report follows them (as the page sends it): a case without its
              // report is removed by retention, so a crash in between leaves nothing behind for long.
              messages: sealed.length === 0 ? [report] : [],
              notes: [],
              uploads: sealed.map((s) => pending(s, hour)),
              forwardedTo: [],
            };
            await deps.store.records.create(code.caseNumber, record);
            if (sealed.length > 0) {
              await storeBlobs(deps, sealed);
              await deps.store.records.update(code.caseNumber, (current) => ({
                ...current,
                uploads: completed(current.uploads, sealed),
                messages: [report],
              }));
            }
            deps.quota.wrote(bytes, bytes);
            const shown = formatReceiptCode(code);
            return htmlResponse(201, <ReceiptPage texts={texts} code={shown} />);
          } finally {
            forget(code.secret, keys);
          }
        } finally {
          form.drop();
        }
      }),
    ),
  );

  const open = (form: BasicForm) => openCase(deps, basic.parties, form);

  const casePage = (texts: Texts, opened: OpenedCase, status: number, notice?: string) =>
    htmlResponse(
      status,
      <CasePage
        texts={texts}
        caseNumber={opened.record.case}
        code={opened.code}
        read={opened.read}
        serverStatus={opened.record.status}
        counsellors={basic.parties.counsellors}
        escalation={basic.parties.escalation}
        maxFiles={BASIC_MAX_FILES}
        maxMb={maxMb}
        {...(notice ? { notice } : {})}
      />,
    );

  app.post(
    `${BASIC}/case`,
    page(async (c, texts) => {
      const form = await readForm(c.req.raw, false);
      const opened = await open(form);
      try {
        return casePage(texts, opened, 200);
      } finally {
        forget(undefined, opened.keys);
      }
    }),
  );

  app.post(
    `${BASIC}/reply`,
    page(
      gated(async (c, texts) => {
        const counsellors = basic.parties.counsellors;
        if (counsellors.length === 0 || counsellors.length + 1 > MAX_RECIPIENTS)
          throw new BasicClosedError('no counsellor keys: nothing can be sealed');
        await deps.quota.check(0, BASIC_FORM_LIMIT);
        const form = await readForm(c.req.raw, true);
        try {
          const opened = await open(form);
          try {
            const text = form.text('text') ?? '';
            if (text.trim() === '') throw new BasicInputError('basicErrorEmpty', 'text is empty');
            if (text.length > MAX_TEXT_LENGTH)
              throw new BasicInputError('basicErrorTooLong', 'text too long');
            checkFiles(deps, form, opened.record.uploads);
            const caseNumber = opened.record.case;
            const stored = opened.record.messages.map((m) => m.envelope);
            const sealed = form.files.map((file) => sealFile(file, deps.random));
            const envelope = sealReply(
              text,
              caseNumber,
              opened.keys,
              stored,
              sealed.map((s) => s.ref),
              counsellors,
              deps.random,
            );
            const blobBytes = sealed.reduce((sum, s) => sum + s.length, 0);
            await deps.quota.check(envelope.ct.length + blobBytes, envelope.ct.length + blobBytes);
            const hour = currentHour(deps);
            const seq = stored.length;
            if (sealed.length > 0) {
              await update(deps, caseNumber, (record) => ({
                ...record,
                uploads: [...record.uploads, ...sealed.map((s) => pending(s, hour))],
              }));
              await storeBlobs(deps, sealed);
            }
            await update(deps, caseNumber, (record) => {
              if (record.messages.length !== seq || record.messages.length >= MAX_MESSAGES)
                throw new SeqConflictError('the conversation changed: read it again');
              const size = record.messages.reduce((sum, m) => sum + m.envelope.ct.length, 0);
              if (size + envelope.ct.length > MAX_CONVERSATION_BYTES)
                throw new TooLargeError('this conversation is full');
              return {
                ...record,
                uploads: completed(record.uploads, sealed),
                messages: [...record.messages, { seq, hour, author: 'reporter', envelope }],
              };
            });
            deps.quota.wrote(envelope.ct.length + blobBytes, envelope.ct.length + blobBytes);
            // The conversation as it now stands, opened again with the same keys.
            const again = await open(form);
            try {
              return casePage(texts, again, 201, texts.t('basicReplySent'));
            } finally {
              forget(undefined, again.keys);
            }
          } finally {
            forget(undefined, opened.keys);
          }
        } finally {
          form.drop();
        }
      }),
    ),
  );

  app.post(
    `${BASIC}/download`,
    page(async (c) => {
      const form = await readForm(c.req.raw, false);
      const opened = await open(form);
      try {
        const blob = form.text('blob');
        let ref: { name: string; size: number; key: string; prefix: string } | undefined;
        for (const message of opened.read.messages) {
          if (!message.ok) continue;
          const content = message.content;
          if (content.type !== 'report' && content.type !== 'message') continue;
          ref = content.attachments.find((a) => a.blob === blob) ?? ref;
        }
        const upload = opened.record.uploads.find((u) => u.id === blob && u.complete);
        if (!ref || !upload) throw new NotFoundError('no such attachment in this case');
        // Decrypted as it streams, a piece at a time: a large file is never whole in memory.
        const decryptor = new AttachmentDecryptor(ref);
        const pieces = deps.store.blobs.read(upload.id)[Symbol.asyncIterator]();
        const stream = new ReadableStream<Uint8Array>({
          async pull(controller) {
            try {
              const { done, value } = await pieces.next();
              if (done) {
                for (const part of decryptor.finish()) controller.enqueue(part);
                controller.close();
              } else {
                for (const part of decryptor.push(value)) controller.enqueue(part);
              }
            } catch (error) {
              // A damaged or altered blob: the download breaks off rather than end in wrong bytes.
              controller.error(error);
            }
          },
          async cancel() {
            await pieces.return?.();
          },
        });
        // Always a download, never shown inline: the declared type is the sender's word.
        return new Response(stream, {
          headers: {
            'content-type': 'application/octet-stream',
            'content-length': String(ref.size),
            'content-disposition': `attachment; filename*=UTF-8''${rfc5987(ref.name)}`,
          },
        });
      } finally {
        forget(undefined, opened.keys);
      }
    }),
  );

  app.all(
    `${BASIC}/*`,
    page(() => {
      throw new NotFoundError('no such page');
    }),
  );

  return app;
}
