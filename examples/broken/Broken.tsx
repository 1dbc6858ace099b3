// DELIBERATE SYNTAX ERROR — do not "fix" this file.
// It exists so the TSX→JS compiler demo can show how a compile error is reported.
// The error: on line 18 the <p> element is closed by the wrong tag `</section>`
// (a JSX closing-tag mismatch). That line contains non-ASCII text (é, 🌏, 日本語)
// before the error, so reported columns exercise UTF-8 vs UTF-16 offset handling.
import React, { useState } from "react";

interface GreetingProps {
  name: string;
}

export function Greeting({ name }: GreetingProps) {
  const [count, setCount] = useState(0);

  return (
    <div className="greeting">
      <h2>Bonjour, {name} !</h2>
      <p title="héllo 🌏">Héllo 🌏 日本語 — {count} fois</section>
      <button type="button" onClick={() => setCount((c) => c + 1)}>
        Encore ✨
      </button>
    </div>
  );
}
