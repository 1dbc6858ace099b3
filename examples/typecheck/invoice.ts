// Compiles fine (esbuild and transpileModule only strip types) but does not type-check:
// compile_demo.py shows `typecheck` catching it.
export interface Line {
  item: string;
  price: number;
  quantity: number;
}

export function total(lines: readonly Line[]): number {
  return lines.reduce((sum, line) => sum + line.price * line.quantity, 0);
}

const lines: Line[] = [
  { item: "café ☕", price: 3.5, quantity: 2 },
  { item: "croissant 🥐", price: "2.10", quantity: 3 },
];

export const due: number = total(lines);
