/** A built-in email body: `html` is rendered in html mode, `text` in text mode. */
export interface BuiltinTemplate {
  html: string;
  text: string;
}

// Email clients strip <style> and external assets unevenly, so everything is
// inline on a table layout; the 600px column is the de facto email width.
const CALL_SUMMARY_HTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="x-apple-disable-message-reformatting">
<title>Call summary</title>
</head>
<body style="margin:0;padding:0;background-color:#f4f5f7;">
<div style="display:none;max-height:0;overflow:hidden;mso-hide:all;">Summary of your call with {{agent_name}}{{#date}} on {{date}}{{/date}}</div>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background-color:#f4f5f7;">
<tr>
<td align="center" style="padding:24px 12px;">
<table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0" style="width:100%;max-width:600px;background-color:#ffffff;border:1px solid #e4e7eb;border-radius:8px;font-family:Arial,Helvetica,sans-serif;color:#1f2933;">
<tr>
<td style="padding:24px 32px;border-bottom:1px solid #e4e7eb;">
<p style="margin:0;font-size:12px;line-height:16px;color:#616e7c;text-transform:uppercase;letter-spacing:1px;">Call summary</p>
<h1 style="margin:4px 0 0;font-size:22px;line-height:28px;font-weight:bold;color:#1f2933;">{{agent_name}}</h1>
</td>
</tr>
<tr>
<td style="padding:24px 32px;font-size:15px;line-height:22px;">
<p style="margin:0 0 16px;">{{#caller_name}}Hi {{caller_name}},{{/caller_name}}{{^caller_name}}Hello,{{/caller_name}}</p>
<p style="margin:0 0 16px;">Here is a summary of your call with {{agent_name}}{{#date}} on {{date}}{{/date}}.</p>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="margin:0 0 8px;font-size:14px;line-height:20px;">
{{#date}}
<tr><td width="120" style="padding:4px 0;color:#616e7c;">Date</td><td style="padding:4px 0;">{{date}}</td></tr>
{{/date}}
{{#duration}}
<tr><td width="120" style="padding:4px 0;color:#616e7c;">Duration</td><td style="padding:4px 0;">{{duration}} min</td></tr>
{{/duration}}
{{#outcome}}
<tr><td width="120" style="padding:4px 0;color:#616e7c;">Outcome</td><td style="padding:4px 0;">{{outcome}}</td></tr>
{{/outcome}}
</table>
{{#summary}}
<h2 style="margin:16px 0 8px;font-size:16px;line-height:22px;color:#1f2933;">Summary</h2>
<p style="margin:0 0 16px;white-space:pre-line;">{{summary}}</p>
{{/summary}}
{{#details_list.length}}
<h2 style="margin:16px 0 8px;font-size:16px;line-height:22px;color:#1f2933;">Details</h2>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="margin:0 0 16px;font-size:14px;line-height:20px;">
{{#details_list}}
<tr><td width="160" valign="top" style="padding:6px 12px 6px 0;border-top:1px solid #e4e7eb;color:#616e7c;">{{label}}</td><td valign="top" style="padding:6px 0;border-top:1px solid #e4e7eb;">{{value}}</td></tr>
{{/details_list}}
</table>
{{/details_list.length}}
{{#recording_url}}
<table role="presentation" cellpadding="0" cellspacing="0" border="0" style="margin:8px 0 16px;">
<tr><td style="border-radius:6px;background-color:#2563eb;"><a href="{{recording_url}}" target="_blank" rel="noopener" style="display:inline-block;padding:12px 20px;font-size:15px;font-weight:bold;color:#ffffff;text-decoration:none;border-radius:6px;">Listen to the recording</a></td></tr>
</table>
{{/recording_url}}
<p style="margin:16px 0 0;">Thank you for calling {{agent_name}}.</p>
</td>
</tr>
<tr>
<td style="padding:16px 32px;border-top:1px solid #e4e7eb;font-size:12px;line-height:18px;color:#9aa5b1;">This message was sent automatically after your call. Reference: {{call_id}}</td>
</tr>
</table>
</td>
</tr>
</table>
</body>
</html>
`;

const CALL_SUMMARY_TEXT = `{{#caller_name}}
Hi {{caller_name}},
{{/caller_name}}
{{^caller_name}}
Hello,
{{/caller_name}}

Here is a summary of your call with {{agent_name}}{{#date}} on {{date}}{{/date}}.

{{#date}}
Date: {{date}}
{{/date}}
{{#duration}}
Duration: {{duration}} min
{{/duration}}
{{#outcome}}
Outcome: {{outcome}}
{{/outcome}}
{{#summary}}

Summary
{{summary}}
{{/summary}}
{{#details_list.length}}

Details
{{#details_list}}
- {{label}}: {{value}}
{{/details_list}}
{{/details_list.length}}
{{#recording_url}}

Listen to the recording: {{recording_url}}
{{/recording_url}}

Thank you for calling {{agent_name}}.

--
This message was sent automatically after your call. Reference: {{call_id}}
`;

/** Built-in email bodies by the name used in `body_template`. */
export const BUILTIN_TEMPLATES: Record<string, BuiltinTemplate> = Object.freeze({
  call_summary: Object.freeze({ html: CALL_SUMMARY_HTML, text: CALL_SUMMARY_TEXT }),
});

/** The built-in template of that name, if any. */
export function builtinTemplate(name: string): BuiltinTemplate | undefined {
  // Own keys only, so "toString" or "__proto__" is not a template.
  return Object.hasOwn(BUILTIN_TEMPLATES, name) ? BUILTIN_TEMPLATES[name] : undefined;
}
