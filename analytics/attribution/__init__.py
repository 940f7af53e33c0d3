"""Attribution of orders to the messages that touched them: last touch, first touch, linear."""
