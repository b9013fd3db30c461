import { stringify } from 'yaml';

/** How the webhook receiver formats its messages: Alertmanager's integrations. */
export const WEBHOOK_KINDS = ['slack', 'discord', 'webhook'] as const;
export type WebhookKind = (typeof WEBHOOK_KINDS)[number];

/** The receivers an environment names in its env file (prod needs at least one). */
export interface AlertReceivers {
  webhook?: { url: string; kind: WebhookKind };
  email?: { to: string; from: string; smarthost: string; username?: string; password?: string };
}

/** The receivers set in the env values; the problems with them (unknown kind, SMTP half set). */
export function alertReceivers(v: Record<string, string | undefined>): { receivers: AlertReceivers; problems: string[] } {
  const receivers: AlertReceivers = {};
  const problems: string[] = [];
  const kind = (v.ALERT_WEBHOOK_KIND || 'slack') as WebhookKind;
  if (!WEBHOOK_KINDS.includes(kind)) problems.push(`ALERT_WEBHOOK_KIND=${v.ALERT_WEBHOOK_KIND} is not one of ${WEBHOOK_KINDS.join(', ')} (slack also serves Mattermost and Discord's /slack URLs; webhook is Alertmanager's own JSON)`);
  if (v.ALERT_WEBHOOK_URL) {
    if (!/^https?:\/\/\S+$/.test(v.ALERT_WEBHOOK_URL)) problems.push('ALERT_WEBHOOK_URL must be an http(s) URL');
    else receivers.webhook = { url: v.ALERT_WEBHOOK_URL, kind };
  }
  const smtp = ['ALERT_EMAIL_TO', 'ALERT_SMTP_FROM', 'ALERT_SMTP_SMARTHOST'] as const;
  const set = smtp.filter((k) => v[k]);
  if (set.length > 0 && set.length < smtp.length) problems.push(`alerts by email need ${smtp.join(', ')}: ${smtp.filter((k) => !v[k]).join(', ')} missing`);
  else if (set.length === smtp.length) {
    if (!/^[^\s:]+:\d+$/.test(v.ALERT_SMTP_SMARTHOST!)) problems.push(`ALERT_SMTP_SMARTHOST=${v.ALERT_SMTP_SMARTHOST} must be host:port (e.g. smtp.example.com:587)`);
    receivers.email = {
      to: v.ALERT_EMAIL_TO!, from: v.ALERT_SMTP_FROM!, smarthost: v.ALERT_SMTP_SMARTHOST!,
      ...(v.ALERT_SMTP_USERNAME ? { username: v.ALERT_SMTP_USERNAME } : {}),
      ...(v.ALERT_SMTP_PASSWORD ? { password: v.ALERT_SMTP_PASSWORD } : {}),
    };
  }
  return { receivers, problems };
}

const webhookConfig = (w: NonNullable<AlertReceivers['webhook']>): Record<string, unknown> => {
  switch (w.kind) {
    case 'slack':
      return { slack_configs: [{ api_url: w.url, send_resolved: true, title: '{{ .Status | toUpper }}: {{ .CommonLabels.alertname }}', text: '{{ range .Alerts }}{{ .Annotations.summary }}\n{{ end }}' }] };
    case 'discord':
      return { discord_configs: [{ webhook_url: w.url, send_resolved: true }] };
    case 'webhook':
      return { webhook_configs: [{ url: w.url, send_resolved: true }] };
  }
};

/**
 * alertmanager.yml (prod) from the env file's receivers. Critical alerts (writes or durability at
 * risk) are sent after 10 s and repeated hourly; warnings after 30 s, every 4 h; both say when
 * they are resolved. A warning on a node is held back while a critical alert fires for it. Holds
 * the receivers' secrets: uploaded 0600.
 */
export function alertmanagerConfig(r: AlertReceivers): string {
  const email = r.email;
  const doc = {
    global: {
      resolve_timeout: '5m',
      ...(email ? {
        smtp_smarthost: email.smarthost, smtp_from: email.from,
        ...(email.username ? { smtp_auth_username: email.username } : {}),
        ...(email.password ? { smtp_auth_password: email.password } : {}),
        smtp_require_tls: true,
      } : {}),
    },
    route: {
      receiver: 'ops',
      group_by: ['alertname', 'node'],
      group_wait: '30s',
      group_interval: '1m',
      repeat_interval: '4h',
      routes: [{ matchers: ['severity="critical"'], receiver: 'ops', group_wait: '10s', repeat_interval: '1h' }],
    },
    inhibit_rules: [{ source_matchers: ['severity="critical"'], target_matchers: ['severity="warning"'], equal: ['node'] }],
    receivers: [{
      name: 'ops',
      ...(r.webhook ? webhookConfig(r.webhook) : {}),
      ...(email ? { email_configs: [{ to: email.to, send_resolved: true }] } : {}),
    }],
  };
  return `# Rendered by twincigo from the env file's ALERT_* settings; 0600 (receivers' secrets). Do not edit on the node.\n${stringify(doc)}`;
}
