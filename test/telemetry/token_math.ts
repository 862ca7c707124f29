// What ScriptedLLM reports for a text call, worked out independently: every request's
// prompt is the agent's instructions plus the conversation so far, and a token is four
// characters (rounded up), for the prompt and the reply separately.

export interface ExpectedTokens {
  input: number;
  output: number;
}

export function expectedTokens(instructions: string, turns: string[], reply: (text: string) => string): ExpectedTokens {
  const history = [instructions];
  let input = 0;
  let output = 0;
  for (const turn of turns) {
    history.push(turn);
    input += Math.ceil(history.reduce((n, text) => n + text.length, 0) / 4);
    const answer = reply(turn);
    output += Math.ceil(answer.length / 4);
    history.push(answer);
  }
  return { input, output };
}

export function addTokens(...all: ExpectedTokens[]): ExpectedTokens {
  return all.reduce((sum, t) => ({ input: sum.input + t.input, output: sum.output + t.output }), { input: 0, output: 0 });
}
