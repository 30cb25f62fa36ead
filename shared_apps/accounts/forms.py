"""Account forms: parsing and widgets only — the rules live in services.py."""

from django import forms


class EmailStepForm(forms.Form):
    email = forms.EmailField(
        label="Votre adresse e-mail",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )


class PasswordStepForm(forms.Form):
    email = forms.EmailField(widget=forms.HiddenInput)
    password = forms.CharField(
        label="Mot de passe",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )


class ProfileFieldsMixin(forms.Form):
    """The service checks these (required, formats) so that every error shows at once."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("first_name", "last_name", "phone", "address", "password"):
            if name in self.fields:
                self.fields[name].required = False

    first_name = forms.CharField(
        label="Prénom", max_length=150, widget=forms.TextInput(attrs={"autocomplete": "given-name"})
    )
    last_name = forms.CharField(
        label="Nom", max_length=150, widget=forms.TextInput(attrs={"autocomplete": "family-name"})
    )
    phone = forms.CharField(
        label="Téléphone",
        max_length=25,
        help_text="Par exemple 06 12 34 56 78.",
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )
    address = forms.CharField(
        label="Adresse postale",
        max_length=500,
        help_text="Numéro, rue, code postal et commune.",
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "street-address"}),
    )


class RegisterForm(ProfileFieldsMixin):
    email = forms.EmailField(
        label="Adresse e-mail", widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    field_order = ["email", "first_name", "last_name", "phone", "address", "password"]
    password = forms.CharField(
        label="Mot de passe",
        strip=False,
        help_text="Au moins 8 caractères, pas uniquement des chiffres, pas trop courant.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class ProfileForm(ProfileFieldsMixin):
    booking_reminders = forms.BooleanField(
        label="Recevoir un rappel par e-mail avant la date limite de réservation",
        required=False,
    )


class ForgotPasswordForm(forms.Form):
    email = forms.EmailField(
        label="Adresse e-mail de votre compte",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )


class NewPasswordForm(forms.Form):
    password = forms.CharField(
        label="Nouveau mot de passe",
        strip=False,
        help_text="Au moins 8 caractères, pas uniquement des chiffres, pas trop courant.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "autofocus": True}),
    )


class ChangePasswordForm(forms.Form):
    current_password = forms.CharField(
        label="Mot de passe actuel",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password = forms.CharField(
        label="Nouveau mot de passe",
        strip=False,
        help_text="Au moins 8 caractères, pas uniquement des chiffres, pas trop courant.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
