import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { en } from '../../web/i18n/en.js';
import { zh } from '../../web/i18n/zh.js';
import { pickLang, setLang } from '../../web/i18n/index.js';
import { failureText } from '../../web/failures.js';
import { GraphValueError, backward, input, log, pow } from '../../src/graph/index.js';

/** Runs `f` with the Chinese messages (setLang needs a document: a small stand-in). */
function withZh(f: () => void): void {
  const g = globalThis as unknown as { document?: unknown };
  g.document = { documentElement: {}, querySelectorAll: () => [], title: '' };
  try {
    setLang('zh');
    f();
  } finally {
    setLang('en');
    delete g.document;
  }
}

describe('the page\'s languages', () => {
  it('?lang= wins, then the browser\'s first Chinese or English language, then English', () => {
    assert.equal(pickLang('?lang=zh', ['en-US']), 'zh');
    assert.equal(pickLang('?s=relu&lang=en', ['zh-CN']), 'en');
    assert.equal(pickLang('?lang=fr', ['zh-TW', 'en']), 'zh');
    assert.equal(pickLang('', ['de-DE', 'en-GB', 'zh-CN']), 'en');
    assert.equal(pickLang('', ['ja']), 'en');
  });

  it('both message files have the same keys, each a text or a function of the same parameters, none empty', () => {
    assert.deepEqual(Object.keys(zh).sort(), Object.keys(en).sort());
    for (const key of Object.keys(en) as (keyof typeof en)[]) {
      const a = en[key], b = zh[key];
      assert.equal(typeof b, typeof a, key);
      if (typeof a === 'function') assert.equal((b as (...x: never[]) => string).length, a.length, `${key}: parameters`);
      else if (key !== 'sentenceGap') assert.ok((b as string).trim().length > 0 && a.trim().length > 0, `${key} is empty`);
    }
  });

  it('a value the page cannot read is explained in Chinese too, quoting it', () => {
    assert.equal(zh.valueProblem("'abc' is not a number"), '“abc”不是一个数');
    assert.equal(zh.valueProblem('1e999 is not a finite number'), '1e999 不是有限的数');
    assert.equal(zh.valueProblem('enter a number'), '请输入一个数');
  });

  it('a graph value that is not a finite number is explained in Chinese from its fields', () => {
    assert.throws(() => log(input('x', -1)), (e: unknown) => {
      assert.ok(e instanceof GraphValueError);
      assert.equal(en.graphValueError(e), 'log(-1) is NaN: log needs an input above 0');
      assert.equal(zh.graphValueError(e), 'log(-1) 的结果是 NaN:log 的输入必须大于 0');
      return true;
    });
    assert.throws(() => backward(pow(input('x', 0), 0.5)), (e: unknown) => {
      assert.ok(e instanceof GraphValueError);
      assert.equal(zh.graphValueError(e), '反向传播经过 0^0.5 时,传给输入 x 的导数是 Infinity:当 c < 1 时,x^c 在 x = 0 处的斜率不是有限的数');
      return true;
    });
  });

  it('the worker\'s failures in the page\'s language, keeping their numbers; an unknown one as code', () => {
    const diverged = { kind: 'diverged', loss: NaN, iteration: 7, lr: 1e30 } as const; // what web/trainer.ts's DivergedError carries
    const rose = { kind: 'diverged', loss: 14.478123, iteration: 81, lr: 10 } as const;
    assert.equal(failureText(diverged), 'The loss became NaN at iteration 7: training diverged. Reset and try a learning rate smaller than 1e+30.');
    assert.equal(failureText(rose), 'The loss rose to 14.4781 at iteration 81: training diverged. Reset and try a learning rate smaller than 10.');
    assert.equal(failureText({ kind: 'error', detail: 'something `odd`' }), "Training stopped: `something 'odd'`");
    withZh(() => {
      assert.equal(failureText(diverged), '第 7 次迭代时损失变成了 NaN:学习发散了。请重置,并试试比 1e+30 小的学习率。');
      assert.equal(failureText(rose), '第 81 次迭代时损失上升到了 14.4781:学习发散了。请重置,并试试比 10 小的学习率。');
      assert.equal(failureText({ kind: 'digits', detail: 'HTTP 404' }), '无法加载手写数字:`HTTP 404`');
      assert.equal(failureText({ kind: 'worker', detail: 'it could not be loaded' }), '学习用的 Web Worker 出错了:`it could not be loaded`');
    });
  });

  it('the Chinese texts use the terms of the Chinese edition', () => {
    const all = Object.values(zh).map((v) => (typeof v === 'string' ? v : (v as (...a: unknown[]) => string)('1', '2', '3', '4', '5', []))).join('\n');
    for (const term of ['计算图', '正向传播', '反向传播', '链式法则', '加法节点', '乘法节点', '激活函数层', '仿射变换', 'Affine层', '批版本', '交叉熵误差', '梯度确认']) {
      assert.ok(all.includes(term), term);
    }
  });
});
