/**
 * Parts of the case screen: the forward (with the reporter's consent
 * beside it), the handover to a colleague, the assignment to a counsellor, the counsellor's labels.
 * @module
 */

import { useEffect, useState } from 'preact/hooks';
import type { CaseJson } from '../../views.js';
import { api } from '../api.js';
import type { Texts } from '../i18n.js';
import { ActionForm, ErrorBox } from '../ui.js';

/** An escalation recipient the server lists. */
export type Recipient = { fingerprint: string; display: string; name: string };

type Post = <T>(action: string, body: unknown) => Promise<T>;

/** Assigns the case to a counsellor (or to no one): a signed private note all counsellors see. */
export function Assign({ t, view, post }: { t: Texts; view: CaseJson; post: Post }) {
  // The choice is the form's own state: bound to the view's assignee alone, any re-render of the
  // case screen (another part finishing its work) would put the select back before Assign.
  const current = view.assignee?.fingerprint ?? '';
  const [to, setTo] = useState(current);
  useEffect(() => setTo(current), [current]);
  return (
    <ActionForm
      t={t}
      id="assign"
      title={t.assignHeading}
      submit={t.assign}
      run={async (d) => {
        await post('assign', { to: String(d.get('to') ?? '') });
        return t.done2;
      }}
    >
      <p class="meta">{t.assignHelp}</p>
      <label for="assign-to">{t.assignedTo}</label>
      <select
        id="assign-to"
        name="to"
        value={to}
        onChange={(e) => setTo((e.target as HTMLSelectElement).value)}
      >
        <option value="">{t.nobody}</option>
        {view.counsellors.map((c) => (
          <option key={c.fingerprint} value={c.fingerprint}>
            {c.name}
            {c.me ? ` (${t.you})` : ''} ({c.display})
          </option>
        ))}
      </select>
    </ActionForm>
  );
}

/** Forwards the case; the reporter's consent is shown beside it, and without `yes` it is off. */
export function Forward(props: { t: Texts; view: CaseJson; recipients: Recipient[]; post: Post }) {
  const { t, view, recipients } = props;
  const consented = view.consent === 'yes';
  return (
    <ActionForm
      t={t}
      id="forward"
      title={t.forward}
      submit={t.forward}
      disabled={!consented || recipients.length === 0}
      run={async (d) => {
        const r = await props.post<{ seq: number; to: string }>('forward', {
          to: String(d.get('to') ?? ''),
          text: String(d.get('text') ?? ''),
        });
        return `${t.forwardedTo} ${r.to} (${t.message} ${r.seq}).`;
      }}
    >
      <p class={consented ? 'ok' : 'notice'} data-testid="consent">
        {t.consent}:{' '}
        <strong>{view.consent ? (t.consents[view.consent] ?? view.consent) : '?'}</strong>.{' '}
        {consented ? t.consentYes : t.consentNot}
      </p>
      {view.forwardedTo.length > 0 && (
        <p>
          {t.forwardedTo}: {view.forwardedTo.join(', ')}
        </p>
      )}
      {recipients.length === 0 && <p>{t.noRecipients}</p>}
      <label for="forward-to">{t.forwardTo}</label>
      <select id="forward-to" name="to">
        {recipients.map((r) => (
          <option key={r.fingerprint} value={r.fingerprint}>
            {r.name} ({r.display})
          </option>
        ))}
      </select>
      <label for="forward-text">{t.forwardText}</label>
      <textarea id="forward-text" name="text" rows={2} autocomplete="off" spellcheck={false} />
    </ActionForm>
  );
}

/**
 * Hands the case to a colleague (a trusted counsellor other than this one),
 * after the counsellor ticked that the reporter sees it and the colleague
 * reads everything.
 */
export function Handover({ t, view, post }: { t: Texts; view: CaseJson; post: Post }) {
  const colleagues = view.counsellors.filter((c) => !c.me);
  return (
    <ActionForm
      t={t}
      id="handover"
      title={t.handover}
      submit={t.handover}
      disabled={colleagues.length === 0}
      run={async (d) => {
        const r = await post<{ seq: number | null; to: string; keys: number }>('handover', {
          to: String(d.get('to') ?? ''),
          text: String(d.get('text') ?? ''),
          confirm: d.get('confirm') === 'yes',
        });
        return t.handedOver(r.to, r.keys);
      }}
    >
      <p class="meta">{t.handoverHelp}</p>
      {colleagues.length === 0 && <p>{t.handoverNoColleague}</p>}
      <label for="handover-to">{t.handoverTo}</label>
      <select id="handover-to" name="to">
        {colleagues.map((c) => (
          <option key={c.fingerprint} value={c.fingerprint}>
            {c.name} ({c.display})
          </option>
        ))}
      </select>
      <label for="handover-text">{t.handoverText}</label>
      <textarea id="handover-text" name="text" rows={2} autocomplete="off" spellcheck={false} />
      <label class="check">
        <input type="checkbox" name="confirm" value="yes" required /> {t.handoverConfirm}
      </label>
    </ActionForm>
  );
}

/** The counsellor's own labels of the case (kept in the local state file). */
export function Labels(props: {
  t: Texts;
  caseNumber: string;
  labels: readonly string[];
  onSaved: () => void;
}) {
  const { t } = props;
  const [value, setValue] = useState(props.labels.join(', '));
  const [error, setError] = useState<Error | null>(null);
  useEffect(() => setValue(props.labels.join(', ')), [props.labels.join('\n')]);
  const save = async (event: Event) => {
    event.preventDefault();
    setError(null);
    try {
      await api('PUT', `/api/cases/${props.caseNumber}/labels`, { labels: value.split(',') });
      props.onSaved();
    } catch (e) {
      setError(e as Error);
    }
  };
  return (
    <form onSubmit={save} class="labels">
      <label for="labels">{t.labelsEdit}</label>
      <input
        id="labels"
        type="text"
        value={value}
        autocomplete="off"
        spellcheck={false}
        onInput={(e) => setValue((e.target as HTMLInputElement).value)}
      />
      <button type="submit">{t.saveLabels}</button>
      <ErrorBox t={t} error={error} />
    </form>
  );
}
