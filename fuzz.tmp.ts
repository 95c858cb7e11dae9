import * as transformers from '@huggingface/transformers';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { seededRandom } from './domain/metrics';
const dir = '/tmp/mlc-tiny-model/8df918b6a64d7d80';
const tok = new transformers.PreTrainedTokenizer(JSON.parse(readFileSync(dir + '/tokenizer.json', 'utf8')), JSON.parse(readFileSync(dir + '/tokenizer_config.json', 'utf8')));
const r = seededRandom(Number(process.argv[2] ?? 1));
const pools = [
  'กขคงจฉชซญฎฏฐดตถทธนบปผพฟภมยรลวศษสหฬอฮะัาำิีึืุูเแโใไ็่้๊๋์ๆ๏๐๑๒๓', 'abcXYZ', "'s't're've'm'll'd'S'T", ' \t\n\r\u00a0\u2003\u200b\u3000', '0123456789٠١٢', '.,!?;:-_()[]{}"\'`~@#$%^&*+=<>/\\|',
  '😀😊👍🏽👨‍👩‍👧❤️🇹🇭1️⃣🙏🏻', 'éèüñçÅ\u0301\u0308', '漢字かなカナ한국어', 'ÀΩДж', '\u0000\u0001\u007f\u0085\u2028',
];
const texts: string[] = [];
for (let i = 0; i < 3000; i++) {
  const n = 1 + Math.floor(r() * 40);
  let s = '';
  for (let j = 0; j < n; j++) { const p = [...pools[Math.floor(r() * pools.length)]!]; s += p[Math.floor(r() * p.length)]; }
  texts.push(s);
}
const node = texts.map((t) => tok.encode(t, { add_special_tokens: false }));
const py = JSON.parse(execFileSync('.venv/bin/python', ['-c', `
import json, sys
from tokenizers import Tokenizer
tok = Tokenizer.from_file(sys.argv[1] + '/tokenizer.json')
texts = json.load(sys.stdin)
print(json.dumps([e.ids for e in tok.encode_batch(texts, add_special_tokens=False)]))
`, dir], { input: JSON.stringify(texts), maxBuffer: 1 << 28 }).toString());
let bad = 0;
texts.forEach((t, i) => { if (JSON.stringify(node[i]) !== JSON.stringify(py[i])) { if (bad++ < 8) console.log(JSON.stringify(t).replace(/[^\x20-\x7e]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0")), '\n node', JSON.stringify(node[i]), '\n py  ', JSON.stringify(py[i])); } });
console.log('mismatches', bad, 'of', texts.length);
