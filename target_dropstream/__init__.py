"""Singer target that turns Magento 2 orders into exactly-once fulfillment records."""
