import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { en } from '../../web/i18n/en.js';
import { zh } from '../../web/i18n/zh.js';
import { pickLang } from '../../web/i18n/index.js';

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
      else assert.ok((b as string).trim().length > 0 && a.trim().length > 0, `${key} is empty`);
    }
  });

  it('a value the page cannot read is explained in Chinese too, quoting it', () => {
    assert.equal(zh.valueProblem("'abc' is not a number"), '“abc”不是一个数');
    assert.equal(zh.valueProblem('1e999 is not a finite number'), '1e999 不是有限的数');
    assert.equal(zh.valueProblem('enter a number'), '请输入一个数');
  });

  it('the Chinese texts use the terms of the Chinese edition', () => {
    const all = Object.values(zh).map((v) => (typeof v === 'string' ? v : (v as (...a: unknown[]) => string)('1', '2', '3', '4', '5', []))).join('\n');
    for (const term of ['计算图', '正向传播', '反向传播', '链式法则', '加法节点', '乘法节点', '激活函数层', '仿射变换', 'Affine层', '批版本', '交叉熵误差', '梯度确认']) {
      assert.ok(all.includes(term), term);
    }
  });
});
