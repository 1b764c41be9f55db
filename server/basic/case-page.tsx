/** @jsxImportSource hono/jsx */
/**
 * The conversation as a reporter without JavaScript reads it: each message opened and checked by
 * the protocol's rules (crypto/conversation.ts, as the page reads it), with every problem named
 * in words; attachments behind POST forms; the reply form. The receipt code rides in hidden
 * fields of this no-store page, never in a URL.
 */

import type { ReadConversation, VerifiedBundle } from '../../crypto/index.js';
import { href, Layout, type Step, Steps } from './pages.js';
import type { Texts } from './texts.js';

const STATUS_KEYS: Readonly<Record<string, string>> = {
  received: 'basicStatusReceived',
  'in-conversation': 'basicStatusInConversation',
  forwarded: 'basicStatusForwarded',
  closed: 'basicStatusClosed',
};

function statusName(texts: Texts, status: string): string {
  const key = STATUS_KEYS[status];
  return key ? texts.t(key) : status;
}

/** Where the case stands: its signed status, else the server's, and whether receipt was acknowledged. */
function stepOf(read: ReadConversation, serverStatus: string): Step {
  const status = read.status ?? serverStatus;
  if (status === 'closed') return 'closed';
  if (status === 'forwarded') return 'forwarded';
  if (status === 'in-conversation') return 'conversation';
  const acknowledged = read.messages.some(
    (m) => m.ok && m.content.type === 'ack' && m.ackMatches === true,
  );
  return acknowledged ? 'acknowledged' : 'received';
}

function Hidden(props: { code: string }) {
  return <input type="hidden" name="code" value={props.code} />;
}

/** The case page. */
export function CasePage(props: {
  texts: Texts;
  caseNumber: string;
  code: string;
  read: ReadConversation;
  serverStatus: string;
  counsellors: readonly VerifiedBundle[];
  escalation: readonly VerifiedBundle[];
  maxFiles: number;
  maxMb: number;
  notice?: string;
}) {
  const { texts, read } = props;
  const { t } = texts;
  const status = statusName(texts, read.status ?? props.serverStatus);
  const nameOf = (fingerprint: string, list: readonly VerifiedBundle[]) =>
    list.find((b) => b.fingerprint === fingerprint)?.name ?? fingerprint;
  return (
    <Layout texts={texts} title={t('basicCaseTitle', { case: props.caseNumber })} here="/return">
      {props.notice ? <p role="status">{props.notice}</p> : null}
      <p>{t('basicStatus', { status })}</p>
      <Steps texts={texts} current={stepOf(read, props.serverStatus)} />
      {read.problems.length > 0 ? (
        <p role="alert" class="problem">
          {t('basicChainBroken')}
        </p>
      ) : null}
      <ol class="messages">
        {read.messages.map((message) => {
          if (!message.ok)
            return (
              <li class="message problem">
                <p role="alert">{t('basicNotVerified', { reason: message.error.code })}</p>
              </li>
            );
          const content = message.content;
          const author =
            message.author.kind === 'reporter'
              ? t('basicFromYou')
              : t('basicFromCounsellor', {
                  name:
                    message.author.kind === 'counsellor'
                      ? nameOf(message.author.fingerprint, props.counsellors)
                      : '',
                });
          const unexpected = message.recipients.unexpected.length;
          return (
            <li class="message">
              <p class="author">
                {author} · {content.time.slice(0, 10)}
              </p>
              {content.type === 'status' ? (
                <p>{t('basicStatusChanged', { status: statusName(texts, content.status) })}</p>
              ) : null}
              {content.type === 'ack' ? (
                <p>
                  {message.ackMatches === false
                    ? t('basicAckOther')
                    : t('basicAck', { date: content.receivedDate })}
                </p>
              ) : null}
              {content.type === 'forwarded' ? (
                <p>{t('basicForwarded', { name: nameOf(content.to, props.escalation) })}</p>
              ) : null}
              {message.withoutConsent ? (
                <p role="alert" class="problem">
                  {t('basicForwardedWithoutConsent')}
                </p>
              ) : null}
              {content.text ? <p class="text">{content.text}</p> : null}
              {(content.type === 'report' || content.type === 'message') &&
              content.attachments.length > 0 ? (
                <ul class="files">
                  {content.attachments.map((file) => (
                    <li>
                      <form method="post" action={href('/download', texts)}>
                        <Hidden code={props.code} />
                        <input type="hidden" name="blob" value={file.blob} />
                        <button type="submit">
                          {t('basicDownload', { name: file.name, size: file.size })}
                        </button>
                      </form>
                    </li>
                  ))}
                </ul>
              ) : null}
              {unexpected > 0 ? (
                <p role="alert" class="problem">
                  {t('basicUnexpectedReaders', { count: unexpected })}
                </p>
              ) : null}
            </li>
          );
        })}
      </ol>
      <h2>{t('basicReplyTitle')}</h2>
      <form method="post" action={href('/reply', texts)} enctype="multipart/form-data">
        <Hidden code={props.code} />
        <label for="text">{t('basicReplyLabel')}</label>
        <textarea id="text" name="text" rows={8} required />
        <label for="files">
          {t('basicFilesLabel', { max: props.maxFiles, size: props.maxMb })}
        </label>
        <input id="files" name="files" type="file" multiple />
        <button type="submit">{t('basicReplySend')}</button>
      </form>
      <p>
        <a href={href('/', texts)}>{t('basicBack')}</a>
      </p>
    </Layout>
  );
}
