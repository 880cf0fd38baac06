Feature: Every image names its owner

  Scenario: Images carry an owner tag
    Given I have alicloud_image defined
    Then it must contain tags
    And it must contain owner
