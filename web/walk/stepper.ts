/**
 * "Step forward" / "Step backward" for a figure, one node at a time: the position in the
 * forward pass (nodes computed) and the backward pass (local rules run). The figure draws
 * itself from `forwardShown` and `backwardShown`.
 */
import { h } from '../dom.js';
import { onLangChange, t } from '../i18n/index.js';
import { getParam, setParam } from '../url.js';

/** How many steps a figure has in each direction. */
export interface StepCounts {
  forward: number;
  backward: number;
}

/**
 * The step position of one figure. Until a button is pressed everything is shown; then
 * `position` runs from 0 (only the inputs known) through the forward steps and on through the
 * backward ones. The position is kept in the address as `<id>.step`.
 */
export class Stepper {
  stepping = false;
  position = 0;
  readonly element: HTMLDivElement;
  private readonly buttons: Record<'forward' | 'backward' | 'previous' | 'reset', HTMLButtonElement>;

  constructor(readonly id: string, private counts: () => StepCounts, private onChange: () => void) {
    const button = (name: string): HTMLButtonElement => h('button', { id: `${id}-${name}`, type: 'button' });
    this.buttons = { forward: button('forward'), backward: button('step'), previous: button('previous'), reset: button('reset') };
    this.element = h('div', { class: 'buttons stepper' }, this.buttons.forward, this.buttons.backward, this.buttons.previous, this.buttons.reset);
    this.buttons.forward.addEventListener('click', () => this.stepForward());
    this.buttons.backward.addEventListener('click', () => this.stepBackward());
    this.buttons.previous.addEventListener('click', () => this.previous());
    this.buttons.reset.addEventListener('click', () => this.go(0));
    const saved = getParam(`${id}.step`);
    if (saved !== null && /^\d+$/.test(saved)) {
      this.stepping = true;
      this.position = Number(saved);
    }
    onLangChange(() => this.label());
    this.label();
  }

  /** Forward steps shown (all of them unless stepping). */
  get forwardShown(): number {
    const { forward } = this.counts();
    return this.stepping ? Math.min(this.position, forward) : forward;
  }

  /** Backward steps shown (all of them unless stepping). */
  get backwardShown(): number {
    const { forward, backward } = this.counts();
    return this.stepping ? Math.max(0, Math.min(this.position - forward, backward)) : backward;
  }

  /** The position, clamped to the figure's steps now (after the figure changed). */
  clamp(): void {
    const { forward, backward } = this.counts();
    this.position = Math.min(this.position, forward + backward);
    this.sync();
  }

  /** Shows everything again (after a new graph or new inputs that change the steps). */
  showAll(): void {
    this.stepping = false;
    this.sync();
  }

  /** One more forward step; from the end of the forward pass, the forward pass starts over. */
  stepForward(): void {
    const { forward } = this.counts();
    this.go(!this.stepping || this.position >= forward ? Math.min(1, forward) : this.position + 1);
  }

  /** One more backward step (finishing the forward pass first); after the last one, backward starts over. */
  stepBackward(): void {
    const { forward, backward } = this.counts();
    const p = this.position;
    this.go(!this.stepping || p >= forward + backward || p < forward ? forward + Math.min(1, backward) : p + 1);
  }

  /** Undoes the last step. */
  previous(): void {
    const { forward, backward } = this.counts();
    this.go(Math.max(0, (this.stepping ? this.position : forward + backward) - 1));
  }

  go(position: number): void {
    this.stepping = true;
    this.position = position;
    this.sync();
    this.onChange();
  }

  private sync(): void {
    const { forward, backward } = this.counts();
    this.buttons.forward.disabled = forward === 0;
    this.buttons.backward.disabled = backward === 0;
    this.buttons.previous.disabled = (this.stepping && this.position === 0) || forward + backward === 0;
    setParam(`${this.id}.step`, this.stepping ? String(this.position) : null);
  }

  private label(): void {
    this.buttons.forward.textContent = t.stepForward;
    this.buttons.backward.textContent = t.stepBackward;
    this.buttons.previous.textContent = t.stepPrevious;
    this.buttons.reset.textContent = t.stepReset;
  }
}
