package org.moescope.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** LangChain4j's OpenAI module, unchanged, against a running moescope server. */
class LangChain4jTest {
    private static Server server;

    @BeforeAll
    static void start() { server = Fixture.start(); }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
    }

    private static String base() { return "http://127.0.0.1:" + server.port() + "/v1"; }

    @Test
    void chatThroughLangChain4j() {
        OpenAiChatModel model = OpenAiChatModel.builder().baseUrl(base()).apiKey("unused").modelName("mini-moe")
                .temperature(0.0).maxTokens(40).build();
        ChatResponse response = model.chat(dev.langchain4j.model.chat.request.ChatRequest.builder()
                .messages(dev.langchain4j.data.message.UserMessage.from(Fixture.HARMFUL)).build());
        assertThat(response.aiMessage().text()).startsWith("I'm sorry");
        assertThat(response.tokenUsage().inputTokenCount()).isPositive();
        assertThat(response.tokenUsage().outputTokenCount()).isPositive();
        assertThat(model.chat("What is 37 + 48?")).startsWith("<think>");
    }

    @Test
    void streamingThroughLangChain4j() throws Exception {
        OpenAiStreamingChatModel model = OpenAiStreamingChatModel.builder().baseUrl(base()).apiKey("unused").modelName("mini-moe")
                .temperature(0.0).maxTokens(12).build();
        StringBuilder pieces = new StringBuilder();
        int[] parts = {0};
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        model.chat("What is 37 + 48?", new StreamingChatResponseHandler() {
            @Override
            public void onPartialResponse(String partial) {
                pieces.append(partial);
                parts[0]++;
            }

            @Override
            public void onCompleteResponse(ChatResponse response) { done.complete(response); }

            @Override
            public void onError(Throwable error) { done.completeExceptionally(error); }
        });
        ChatResponse response = done.get(60, TimeUnit.SECONDS);
        assertThat(parts[0]).as("text arrives in pieces").isGreaterThan(3);
        assertThat(response.aiMessage().text()).isEqualTo(pieces.toString()).startsWith("<think>");
    }
}
