"""The campaigns app's workspace pages, under /app/campaigns/ (see config/urls.py)."""

from django.urls import path

from campaigns.views import broadcasts as bc
from campaigns.views import broadcasts_control as bc_control
from campaigns.views import broadcasts_results as bc_results
from campaigns.views import hub, journey_library, journey_map, loyalty, promo, recommendations
from campaigns.views import journeys as jr
from campaigns.views import journeys_control as jr_control
from campaigns.views import journeys_steps as jr_steps
from campaigns.views import message_templates as tpl
from campaigns.views import planning as cjm
from campaigns.views import planning_strategies as strategies

app_name = "campaigns"

urlpatterns = [
    path("campaigns/", hub.campaigns_index, name="index"),
    # Templates (/app/campaigns/templates/…), promo codes (…/promo/…), loyalty (…/loyalty/…),
    # recommendations (…/recommendations/…) and broadcasts add their routes below.
    path("campaigns/templates/", tpl.template_list, name="templates"),
    path("campaigns/templates/new/", tpl.template_edit, name="template_new"),
    path("campaigns/templates/<int:template_id>/", tpl.template_edit, name="template_edit"),
    path("campaigns/templates/preview/", tpl.template_preview, name="template_preview"),
    path(
        "campaigns/templates/preview/<str:token>/",
        tpl.template_preview_email,
        name="template_preview_email",
    ),
    path(
        "campaigns/templates/<int:template_id>/test-send/",
        tpl.template_test_send_view,
        name="template_test_send",
    ),
    path(
        "campaigns/templates/<int:template_id>/archive/",
        tpl.template_archive_view,
        name="template_archive",
    ),
    path("campaigns/broadcasts/", bc.broadcast_list, name="broadcasts"),
    path("campaigns/broadcasts/new/", bc.broadcast_new, name="broadcast_new"),
    path("campaigns/broadcasts/<int:broadcast_id>/", bc.broadcast_detail, name="broadcast"),
    path("campaigns/broadcasts/<int:broadcast_id>/edit/", bc.broadcast_edit, name="broadcast_edit"),
    path(
        "campaigns/broadcasts/<int:broadcast_id>/live/",
        bc_results.broadcast_live,
        name="broadcast_live",
    ),
    path(
        "campaigns/broadcasts/<int:broadcast_id>/recipients/",
        bc_results.broadcast_recipients,
        name="broadcast_recipients",
    ),
    path(
        "campaigns/broadcasts/<int:broadcast_id>/launch/",
        bc_control.broadcast_launch_view,
        name="broadcast_launch",
    ),
    path(
        "campaigns/broadcasts/<int:broadcast_id>/schedule/",
        bc_control.broadcast_schedule_view,
        name="broadcast_schedule",
    ),
    path(
        "campaigns/broadcasts/<int:broadcast_id>/pause/",
        bc_control.broadcast_pause_view,
        name="broadcast_pause",
    ),
    path(
        "campaigns/broadcasts/<int:broadcast_id>/resume/",
        bc_control.broadcast_resume_view,
        name="broadcast_resume",
    ),
    path(
        "campaigns/broadcasts/<int:broadcast_id>/cancel/",
        bc_control.broadcast_cancel_view,
        name="broadcast_cancel",
    ),
    path("campaigns/loyalty/", loyalty.loyalty_settings, name="loyalty"),
    path(
        "campaigns/loyalty/customers/<str:external_id>/adjust",
        loyalty.points_adjust_view,
        name="loyalty_adjust",
    ),
    path("campaigns/promo/", promo.promo_pools, name="promo_pools"),
    path("campaigns/promo/new/", promo.promo_pool_new, name="promo_pool_new"),
    path("campaigns/promo/<int:pool_id>/", promo.promo_pool, name="promo_pool"),
    path("campaigns/promo/<int:pool_id>/edit/", promo.promo_pool_edit, name="promo_pool_edit"),
    path(
        "campaigns/promo/<int:pool_id>/generate/",
        promo.promo_pool_generate,
        name="promo_pool_generate",
    ),
    path(
        "campaigns/promo/<int:pool_id>/import/", promo.promo_pool_import, name="promo_pool_import"
    ),
    path(
        "campaigns/promo/<int:pool_id>/archive/",
        promo.promo_pool_archive,
        name="promo_pool_archive",
    ),
    path(
        "campaigns/recommendations/",
        recommendations.recommendations_index,
        name="recommendations",
    ),
    path(
        "campaigns/recommendations/refresh",
        recommendations.recommendations_refresh_view,
        name="recommendations_refresh",
    ),
    path(
        "campaigns/recommendations/refresh-customer",
        recommendations.recommendations_refresh_customer_view,
        name="recommendations_refresh_customer",
    ),
    path("campaigns/journeys/", jr.journey_list, name="journeys"),
    path("campaigns/journeys/new/", jr.journey_new, name="journey_new"),
    path("campaigns/journeys/<int:journey_id>/", jr.journey_detail, name="journey"),
    path(
        "campaigns/journeys/<int:journey_id>/settings/",
        jr.journey_settings,
        name="journey_settings",
    ),
    path(
        "campaigns/journeys/<int:journey_id>/versions/<int:number>/",
        jr.journey_version,
        name="journey_version",
    ),
    path(
        "campaigns/journeys/<int:journey_id>/steps/add/",
        jr_steps.journey_step_add_view,
        name="journey_step_add",
    ),
    path(
        "campaigns/journeys/<int:journey_id>/steps/<str:step_id>/",
        jr_steps.journey_step,
        name="journey_step",
    ),
    path(
        "campaigns/journeys/<int:journey_id>/steps/<str:step_id>/remove/",
        jr_steps.journey_step_remove_view,
        name="journey_step_remove",
    ),
    path(
        "campaigns/journeys/<int:journey_id>/publish/",
        jr_control.journey_publish_view,
        name="journey_publish",
    ),
    path(
        "campaigns/journeys/<int:journey_id>/pause/",
        jr_control.journey_pause_view,
        name="journey_pause",
    ),
    path(
        "campaigns/journeys/<int:journey_id>/resume/",
        jr_control.journey_resume_view,
        name="journey_resume",
    ),
    path(
        "campaigns/journeys/<int:journey_id>/archive/",
        jr_control.journey_archive_view,
        name="journey_archive",
    ),
    path(
        "campaigns/journeys/<int:journey_id>/dry-run/",
        jr_control.journey_dry_run_view,
        name="journey_dry_run",
    ),
    # Planning: customer-journey maps and communication strategies.
    path("campaigns/cjm/", cjm.cjm_index, name="cjms"),
    path("campaigns/cjm/new/", cjm.cjm_new, name="cjm_new"),
    path("campaigns/cjm/<int:cjm_id>/", cjm.cjm_detail, name="cjm"),
    path("campaigns/cjm/<int:cjm_id>/edit/", cjm.cjm_edit, name="cjm_edit"),
    path("campaigns/cjm/<int:cjm_id>/delete/", cjm.cjm_delete_view, name="cjm_delete"),
    path("campaigns/cjm/<int:cjm_id>/stages/", cjm.cjm_stages_view, name="cjm_stages"),
    path(
        "campaigns/cjm/<int:cjm_id>/cells/<int:stage_id>/<str:channel>/",
        cjm.cjm_cell,
        name="cjm_cell",
    ),
    path(
        "campaigns/cjm/<int:cjm_id>/cells/<int:stage_id>/<str:channel>/links/",
        cjm.cjm_link_add_view,
        name="cjm_link_add",
    ),
    path(
        "campaigns/cjm/<int:cjm_id>/cells/<int:stage_id>/<str:channel>/<str:field>/",
        cjm.cjm_cell_field,
        name="cjm_cell_field",
    ),
    path(
        "campaigns/cjm/<int:cjm_id>/links/<int:link_id>/remove/",
        cjm.cjm_link_remove_view,
        name="cjm_link_remove",
    ),
    path("campaigns/strategies/", strategies.strategy_index, name="strategies"),
    path("campaigns/strategies/new/", strategies.strategy_new, name="strategy_new"),
    path("campaigns/strategies/<int:strategy_id>/", strategies.strategy_detail, name="strategy"),
    path(
        "campaigns/strategies/<int:strategy_id>/edit/",
        strategies.strategy_edit,
        name="strategy_edit",
    ),
    path(
        "campaigns/strategies/<int:strategy_id>/delete/",
        strategies.strategy_delete_view,
        name="strategy_delete",
    ),
    path(
        "campaigns/strategies/<int:strategy_id>/content/",
        strategies.strategy_content_add_view,
        name="strategy_content_add",
    ),
    path(
        "campaigns/strategies/<int:strategy_id>/content/<int:content_id>/remove/",
        strategies.strategy_content_remove_view,
        name="strategy_content_remove",
    ),
    # Ready-made journeys (campaigns.views.journey_library)
    path(
        "campaigns/journeys/templates/",
        journey_library.journey_library,
        name="journey_library",
    ),
    path(
        "campaigns/journeys/templates/<slug:key>/",
        journey_library.journey_library_use,
        name="journey_library_use",
    ),
    # The trigger map (campaigns.views.journey_map), at /app/journeys/map
    path("journeys/map", journey_map.journey_map, name="journey_map"),
    path("journeys/map/add", journey_map.journey_map_add, name="journey_map_add"),
    path(
        "journeys/map/<int:segment_id>/remove",
        journey_map.journey_map_remove,
        name="journey_map_remove",
    ),
]
