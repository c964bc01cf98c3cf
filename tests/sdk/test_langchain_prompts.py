"""The LangChain handler records the prompt templates it sees (contract v1.1): real
``langchain_core`` templates piped into a fake chat model, and a LangGraph node."""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import BaseMessage
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder, PromptTemplate
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages

import ollive
from ollive.events import parse_event, template_hash
from ollive.integrations.langchain import CallbackHandler
from tests.sdk.conftest import IngestServer

SYSTEM = "You are Acme's support assistant."
CHAT_TEXT = f"system: {SYSTEM}\nplaceholder: {{history}}\nhuman: {{question}}"


def chat_template() -> ChatPromptTemplate:
    return ChatPromptTemplate.from_messages(
        [("system", SYSTEM), MessagesPlaceholder("history"), ("human", "{question}")]
    )


def model() -> FakeListChatModel:
    return FakeListChatModel(responses=["Within 60 days."] * 10)


def inferences(server: IngestServer) -> list[dict[str, Any]]:
    assert ollive.flush(10)
    assert not server.invalid, server.invalid
    events = sorted(server.of_type("inference"), key=lambda e: e["started_at"])
    for event in events:
        parse_event(event)
    return events


def prompt_of(event: dict[str, Any]) -> tuple[Any, Any, Any]:
    return event["prompt_name"], event["prompt_version"], event["prompt_hash"]


INPUTS = {"question": "Can I return it?", "history": []}


def test_a_named_template_gives_name_version_and_hash(sdk: IngestServer) -> None:
    named = chat_template().with_config(run_name="support-answer", metadata={"prompt_version": 3})
    (named | model()).invoke(INPUTS, config={"callbacks": [CallbackHandler()]})
    renamed = PromptTemplate.from_template("Say {question}")
    renamed.name = "say-it"
    (renamed | model()).invoke({"question": "hi"}, config={"callbacks": [CallbackHandler()]})
    chat, plain = inferences(sdk)
    assert prompt_of(chat) == ("support-answer", "3", template_hash(CHAT_TEXT))
    assert chat["schema_version"] == "1.1"
    assert prompt_of(plain) == ("say-it", None, template_hash("Say {question}"))


def test_a_default_name_is_not_a_name_only_the_hash_is_kept(sdk: IngestServer) -> None:
    handler = CallbackHandler()
    (chat_template() | model()).invoke(INPUTS, config={"callbacks": [handler]})
    with ollive.prompt("explicit", version="7"):  # a nameless template does not override it
        (chat_template() | model()).invoke(INPUTS, config={"callbacks": [handler]})
        named = chat_template().with_config(run_name="support-answer")
        (named | model()).invoke(INPUTS, config={"callbacks": [handler]})  # a named one does
    bare, explicit, named_event = inferences(sdk)
    assert prompt_of(bare) == (None, None, template_hash(CHAT_TEXT))
    assert prompt_of(explicit) == ("explicit", "7", None)
    assert prompt_of(named_event) == ("support-answer", None, template_hash(CHAT_TEXT))


def test_hub_metadata_names_the_prompt(sdk: IngestServer) -> None:
    pulled = PromptTemplate.from_template("Summarise {question}")
    pulled.metadata = {"lc_hub_owner": "acme", "lc_hub_repo": "summarise",
                       "lc_hub_commit_hash": "a1b2c3d4"}  # fmt: skip
    (pulled | model()).invoke({"question": "x"}, config={"callbacks": [CallbackHandler()]})
    (event,) = inferences(sdk)
    assert prompt_of(event) == ("acme/summarise", "a1b2c3d4", template_hash("Summarise {question}"))


def test_the_prompt_stays_with_its_own_chain(sdk: IngestServer) -> None:
    handler = CallbackHandler()
    named = chat_template().with_config(run_name="support-answer")
    (named | model()).invoke(INPUTS, config={"callbacks": [handler]})
    model().invoke("no template here", config={"callbacks": [handler]})
    with_prompt, without = inferences(sdk)
    assert with_prompt["prompt_name"] == "support-answer"
    assert prompt_of(without) == (None, None, None) and without["schema_version"] == "1.0"


class State(TypedDict):
    messages: Annotated[list[BaseMessage], add_messages]


def test_a_graph_node_that_formats_then_calls_the_model(sdk: IngestServer) -> None:
    template = chat_template().with_config(
        run_name="support-answer", metadata={"prompt_version": 2}
    )
    chat = model()

    def answer(state: State) -> dict[str, Any]:
        messages = template.invoke({"question": "refunds?", "history": state["messages"]})
        return {"messages": [chat.invoke(messages)]}

    graph = StateGraph(State)
    graph.add_node("answer", answer)
    graph.add_edge(START, "answer")
    graph.add_edge("answer", END)
    graph.compile().invoke({"messages": []}, config={"callbacks": [CallbackHandler()]})
    (event,) = inferences(sdk)
    assert prompt_of(event) == ("support-answer", "2", template_hash(CHAT_TEXT))
