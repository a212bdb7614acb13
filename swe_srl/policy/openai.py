"""``openai:MODEL@URL``: any OpenAI-compatible chat endpoint (vLLM, SGLang, llama.cpp, hosted APIs).

Plain HTTP with ``urllib``: no client library. ``URL`` is the API base (``http://host:8000/v1``);
``/chat/completions`` is appended unless already there. The key, when one is needed, comes from
``$OPENAI_API_KEY``. Prompts are ``swe_srl.context.build_messages``, the same messages
the models are trained on. A reply given as a native tool call is turned into the XML call text.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass

from swe_srl.actions import action_from_tool_call, render_action
from swe_srl.context import ContextConfig, build_messages
from swe_srl.policy.errors import ModelServerError, PolicyError
from swe_srl.records import Step

__all__ = ["ModelServerError", "OpenAIPolicy", "PolicyError", "reply_text"]


@dataclass
class OpenAIPolicy:
    model: str
    base_url: str
    max_tokens: int = 2048
    temperature: float = 0.0
    timeout: float = 600.0
    window: int | None = 2

    @property
    def name(self) -> str:
        kind = self.__class__.__name__.removesuffix("Policy").lower()
        return f"{kind}:{getattr(self, 'model', None) or getattr(self, 'path', '')}"

    @property
    def endpoint(self) -> str:
        url = self.base_url.rstrip("/")
        return url if url.endswith("/chat/completions") else url + "/chat/completions"

    def complete(self, messages: list[dict[str, str]]) -> str:
        body = {
            "model": self.model,
            "messages": messages,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
        }
        headers = {"Content-Type": "application/json"}
        if key := os.environ.get("OPENAI_API_KEY"):
            headers["Authorization"] = f"Bearer {key}"
        request = urllib.request.Request(self.endpoint, json.dumps(body).encode(), headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                data = json.loads(response.read())
        except urllib.error.HTTPError as err:
            kind = ModelServerError if err.code >= 500 else PolicyError
            raise kind(f"chat endpoint {self.endpoint} failed: {err}") from err
        except (urllib.error.URLError, OSError) as err:
            raise ModelServerError(f"chat endpoint {self.endpoint} failed: {err}") from err
        except ValueError as err:
            raise PolicyError(f"chat endpoint {self.endpoint} answered no JSON: {err}") from err
        return reply_text(data, self.endpoint)

    def act(self, problem_statement: str, history: list[Step]) -> str:
        return self.complete(build_messages(problem_statement, history, ContextConfig(window=self.window)))

    def oracle_answer(self, prompt: str) -> str:
        return self.complete([{"role": "user", "content": prompt}])


def reply_text(data: object, endpoint: str = "") -> str:
    """The reply text of a chat-completions response; native tool calls become XML call text."""
    try:
        message = data["choices"][0]["message"]  # type: ignore[index]
    except (KeyError, IndexError, TypeError):
        raise PolicyError(f"{endpoint}: response has no choices[0].message: {str(data)[:200]}") from None
    text = message.get("content") or ""
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        action = action_from_tool_call(function.get("name"), function.get("arguments"))
        text += "\n" + render_action(action)
    return text
