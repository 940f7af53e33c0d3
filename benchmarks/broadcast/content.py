"""The benchmark email of issue 11: "a personalised Liquid email (subject plus about 2 KB HTML,
5 variables, a loop over 3 recommendations, a promo code each)".

The five variables are the customer's first name and city (a typed attribute: create the
AttributeDefinition `city`, see BENCH_ATTRIBUTES, before saving a template with these variants),
the points balance, the RFM segment and the promo code; the loop shows three "bought together"
products. The plain-text part is left out on purpose: it is made once from the HTML template.
"""

BENCH_ATTRIBUTES = {"city": "string"}  # {key: type} the variants read under customer.attributes

_PRODUCT = """
        <tr>
          <td class="product-image" width="120">
            <a href="{{ p.url }}"><img src="{{ p.image_url }}" width="120" alt="{{ p.name }}"></a>
          </td>
          <td class="product-text">
            <a class="product-name" href="{{ p.url }}">{{ p.name }}</a>
            <p class="product-price">{{ p.price }} ₽</p>
          </td>
        </tr>"""

BENCH_EMAIL_HTML = (
    """<!DOCTYPE html>
<html lang="ru">
<head><meta charset="utf-8"><title>Подборка для вас</title></head>
<body class="email">
  <table class="wrapper" width="100%" cellpadding="0" cellspacing="0" role="presentation">
    <tr><td class="header"><a href="https://shop.example.com/"><img src="https://shop.example.com/logo.png" width="140" alt="Магазин"></a></td></tr>
    <tr>
      <td class="content">
        <h1>Здравствуйте, {{ customer.first_name | default: "друг" }}!</h1>
        <p>Мы собрали товары, которые часто покупают вместе с вашими прошлыми покупками.
        Доставим в {{ customer.attributes.city | default: "ваш город" }} бесплатно при заказе от 3 000 ₽.</p>
        <p class="points">На вашем счёте <strong>{{ points.balance }}</strong> баллов: ими можно
        оплатить до 30 % следующего заказа.</p>
        {% if rfm.segment == "champions" %}<p class="vip">Спасибо, что остаётесь с нами: для постоянных
        покупателей доставка всегда бесплатна.</p>{% endif %}
      </td>
    </tr>
    <tr>
      <td class="products">
        <table width="100%" cellpadding="0" cellspacing="0" role="presentation">
        {% for p in recommendations.bought_together limit:3 %}"""
    + _PRODUCT
    + """
        {% endfor %}
        </table>
      </td>
    </tr>
    <tr>
      <td class="promo">
        <p>Ваш персональный промокод на скидку 10 %:</p>
        <p class="promo-code"><strong>{{ promo.code }}</strong></p>
        <p class="small">Промокод действует 14 дней на товары без скидки, один раз.</p>
        <p><a class="button" href="https://shop.example.com/cart?promo={{ promo.code }}">Перейти в корзину</a></p>
      </td>
    </tr>
    <tr>
      <td class="footer">
        <p>Вы получили это письмо, потому что подписались на новости магазина.
        <a href="{{ preferences_url }}">Настроить рассылки</a> или
        <a href="{{ unsubscribe_url }}">отписаться</a>.</p>
        <p>ООО «Магазин», 123456, Москва, ул. Примерная, д. 1.</p>
      </td>
    </tr>
  </table>
</body>
</html>
"""
)

BENCH_EMAIL_VARIANTS = {
    "email": {
        "subject": "{{ customer.first_name | default: 'Друг' }}, ваш промокод {{ promo.code }} и подборка",
        "html": BENCH_EMAIL_HTML,
    }
}
