"""Singer tap for Magento 2 orders, with a local Magento 2 sandbox for tests and demos."""
