// The Connected Content Liquid a marketer pastes into Braze: one call per message field, the recipient
// hashed in Liquid (no raw id in logged URLs), the token in a header, and a fallback when weft has no text.

export interface SnippetInput {
  readonly baseUrl: string;
  readonly experimentId: string;
  /** The tenant's connect token, or a placeholder when the caller must not see it. */
  readonly connectToken: string;
}

export interface Snippet {
  readonly subject: string;
  readonly body: string;
}

export function connectedContentCall(input: SnippetInput): string {
  const url = `${input.baseUrl.replace(/\/+$/, '')}/v1/content?experiment=${encodeURIComponent(input.experimentId)}&recipient={{\${braze_id} | sha2}}&campaign={{campaign.\${api_id}}}`;
  return `{% connected_content ${url} :headers {"Authorization": "Bearer ${input.connectToken}"} :save weft :retry %}`;
}

/** The text the CLI prints and the dashboard shows, identical in both. */
export function formatSnippet(snippet: Snippet): string {
  return `# Subject line\n${snippet.subject}\n\n# Body\n${snippet.body}\n`;
}

export function connectedContentSnippet(input: SnippetInput): Snippet {
  const call = connectedContentCall(input);
  return {
    subject: `${call}{{weft.text | default: "Your usual subject line"}}`,
    body: [
      call,
      '<h1>{{weft.text | default: "Your usual headline"}}</h1>',
      '<a href="https://shop.example/sale?utm_source=braze&{{weft.link_param}}">Shop now</a>',
      '<img src="{{weft.pixel_url}}" width="1" height="1" alt="" style="display:block;border:0">',
    ].join('\n'),
  };
}
