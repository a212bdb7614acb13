"""``hf:PATH``: a local transformers checkpoint (weights on disk; nothing is downloaded).

The chat template of the checkpoint's tokenizer formats ``swe_srl.context.build_messages``;
generation is greedy unless a temperature is given. Models are cached per path so parallel tasks
share one copy.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from swe_srl.context import ContextConfig, build_messages
from swe_srl.policy.openai import PolicyError
from swe_srl.records import Step

_CACHE: dict[str, tuple[object, object]] = {}
_LOCK = threading.Lock()


def load_model(path: str) -> tuple[object, object]:
    """(model, tokenizer) from a local directory, loaded once per process."""
    with _LOCK:
        if path not in _CACHE:
            if not Path(path).is_dir():
                raise PolicyError(f"hf:{path}: no such checkpoint directory")
            from transformers import AutoModelForCausalLM, AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
            model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True)
            model.eval()
            _CACHE[path] = (model, tokenizer)
        return _CACHE[path]


@dataclass
class HFPolicy:
    path: str
    max_tokens: int = 1024
    temperature: float = 0.0
    window: int | None = 2

    @property
    def name(self) -> str:
        kind = self.__class__.__name__.removesuffix("Policy").lower()
        return f"{kind}:{getattr(self, 'model', None) or getattr(self, 'path', '')}"

    def complete(self, messages: list[dict[str, str]]) -> str:
        import torch

        model, tokenizer = load_model(self.path)
        ids = tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        sampling = (
            {"do_sample": True, "temperature": self.temperature}
            if self.temperature > 0
            else {"do_sample": False}
        )
        with _LOCK, torch.no_grad():  # one generate at a time: the model is shared between workers
            out = model.generate(**ids, max_new_tokens=self.max_tokens, **sampling)
        new_tokens = out[0][ids["input_ids"].shape[1] :]
        return tokenizer.decode(new_tokens, skip_special_tokens=True)

    def act(self, problem_statement: str, history: list[Step]) -> str:
        return self.complete(build_messages(problem_statement, history, ContextConfig(window=self.window)))

    def oracle_answer(self, prompt: str) -> str:
        return self.complete([{"role": "user", "content": prompt}])
