/**
 * How a fill-in-the-middle request is put on the wire for the legacy Completions endpoint.
 *
 * `suffix-field`: `{ prompt: prefix, suffix }` — the server applies the model's FIM template
 *   (OpenAI gpt-3.5-turbo-instruct, Ollama, DeepSeek).
 * The others build the raw prompt from the model family's FIM tokens and send no `suffix`, for
 * servers that reject `suffix` (vLLM, llama.cpp server, LM Studio) but pass special tokens in
 * the prompt through to the tokenizer.
 */
export const FIM_FORMATS = ['suffix-field', 'qwen', 'starcoder', 'codellama', 'deepseek', 'codestral'] as const;
export type FimFormat = (typeof FIM_FORMATS)[number];

export interface FimWireFields {
  prompt: string;
  suffix?: string;
}

export function fimWireFields(format: FimFormat, prefix: string, suffix: string): FimWireFields {
  switch (format) {
    case 'suffix-field':
      return { prompt: prefix, suffix };
    case 'qwen':
      return { prompt: `<|fim_prefix|>${prefix}<|fim_suffix|>${suffix}<|fim_middle|>` };
    case 'starcoder':
      return { prompt: `<fim_prefix>${prefix}<fim_suffix>${suffix}<fim_middle>` };
    case 'codellama':
      return { prompt: `<PRE> ${prefix} <SUF>${suffix} <MID>` };
    case 'deepseek':
      return { prompt: `<｜fim▁begin｜>${prefix}<｜fim▁hole｜>${suffix}<｜fim▁end｜>` };
    case 'codestral':
      return { prompt: `[SUFFIX]${suffix}[PREFIX]${prefix}` };
  }
}
