from channels.api import calls, conversations, messages

urlpatterns = messages.urlpatterns + conversations.urlpatterns + calls.urlpatterns
