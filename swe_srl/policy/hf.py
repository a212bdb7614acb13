"""In-process generation with local transformers weights (``hf:PATH`` with ``in_process``).

``hf:PATH`` normally starts one ``transformers serve`` for the run (``swe_srl.policy.served``);
generating in this process is kept for where it is the simplest correct thing: tiny models in tests
and benchmarks, machines without the ``serve`` extra. It is batched, not locked: callers on any
number of threads put their prompts in a queue, and one generation thread takes whatever is waiting
(up to ``max_batch``) and runs it as one left-padded ``generate`` call. Weights load once per
(path, sampling) in a process (:func:`local_generator`).

Greedy replies are the same as unbatched ones up to floating-point differences between batch
shapes (padding changes the matrix sizes, not the maths).
"""

from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from swe_srl.policy.client import Completion, Sampling
from swe_srl.policy.errors import PolicyError

_GENERATORS: dict[tuple[str, Sampling, int], LocalGenerator] = {}
_GENERATORS_LOCK = threading.Lock()  # guards the cache only, never a generation


class LocalGenerator:
    """One model in this process, answering many threads in batches (see the module docstring)."""

    def __init__(self, path: str, sampling: Sampling, max_batch: int = 16):
        if not Path(path).is_dir():
            raise PolicyError(f"hf:{path}: no such checkpoint directory")
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.path, self.sampling, self.max_batch = path, sampling, max(1, max_batch)
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True).eval()
        self.pad_id = self.tokenizer.pad_token_id
        if self.pad_id is None:
            self.pad_id = self.tokenizer.eos_token_id or 0
        self.batches = 0  # generate calls so far (tests and benchmarks read it)
        self._tokenizer_lock = threading.Lock()  # a fast tokenizer is not safe to share between threads
        self._queue: queue.Queue[tuple[list[int], int, Future] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._serve, name=f"hf-generate:{path}", daemon=True)
        self._thread.start()

    @property
    def context_length(self) -> int | None:
        return getattr(self.model.config, "max_position_embeddings", None)

    def count(self, messages: list[dict[str, str]]) -> int:
        return len(self._prompt_ids(messages))

    def complete(self, messages: list[dict[str, str]], max_tokens: int | None = None) -> Completion:
        future: Future = Future()
        start = time.monotonic()
        ids = self._prompt_ids(messages)
        self._queue.put((ids, max_tokens or self.sampling.max_tokens, future))
        text, generated, finish = future.result()
        return Completion(text, len(ids), generated, finish, time.monotonic() - start)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()

    def _prompt_ids(self, messages: list[dict[str, str]]) -> list[int]:
        with self._tokenizer_lock:
            rendered = self.tokenizer.apply_chat_template(
                messages, tokenize=False, add_generation_prompt=True
            )
            return list(self.tokenizer(rendered, add_special_tokens=False)["input_ids"])

    def _serve(self) -> None:
        while (first := self._queue.get()) is not None:
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)  # finish this batch, then stop
                    break
                batch.append(item)
            try:
                for future, result in zip((f for *_, f in batch), self._generate(batch), strict=True):
                    future.set_result(result)
            except Exception as err:  # every waiting caller gets the failure, the thread lives on
                for *_, future in batch:
                    if not future.done():
                        future.set_exception(PolicyError(f"hf:{self.path}: generation failed: {err}"))

    def _generate(self, batch: list[tuple[list[int], int, Future]]) -> list[tuple[str, int, str]]:
        import torch

        width = max(len(ids) for ids, *_ in batch)
        input_ids = torch.tensor([[self.pad_id] * (width - len(ids)) + ids for ids, *_ in batch])
        mask = torch.tensor([[0] * (width - len(ids)) + [1] * len(ids) for ids, *_ in batch])
        if self.sampling.seed is not None:
            torch.manual_seed(self.sampling.seed)  # only this thread generates
        with torch.no_grad():
            out = self.model.generate(
                input_ids=input_ids,
                attention_mask=mask,
                max_new_tokens=max(limit for _, limit, _ in batch),
                pad_token_id=self.pad_id,
                **self._sampling_kwargs(),
            )
        self.batches += 1
        return [
            self._decode(row[width:].tolist(), limit) for row, (_, limit, _) in zip(out, batch, strict=True)
        ]

    def _decode(self, tokens: list[int], limit: int) -> tuple[str, int, str]:
        eos = self.model.generation_config.eos_token_id
        stops = set(eos if isinstance(eos, list) else [eos]) - {None}
        end = next((i for i, t in enumerate(tokens) if t in stops), None)
        if end is not None and end < limit:
            return self.tokenizer.decode(tokens[:end], skip_special_tokens=True), end, "stop"
        kept = tokens[:limit]
        return self.tokenizer.decode(kept, skip_special_tokens=True), len(kept), "length"

    def _sampling_kwargs(self) -> dict[str, Any]:
        s = self.sampling
        kwargs: dict[str, Any] = {"do_sample": s.temperature > 0, "repetition_penalty": s.repetition_penalty}
        if s.temperature > 0:
            kwargs.update(temperature=s.temperature, top_p=s.top_p, top_k=s.top_k)
        return kwargs


def local_generator(path: str, sampling: Sampling, max_batch: int = 16) -> LocalGenerator:
    """The process's generator for ``path`` with ``sampling`` (weights loaded on first use)."""
    key = (str(Path(path).resolve()), sampling, max_batch)
    with _GENERATORS_LOCK:
        if key not in _GENERATORS:
            _GENERATORS[key] = LocalGenerator(path, sampling, max_batch)
        return _GENERATORS[key]
